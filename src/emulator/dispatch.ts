import { Agent, errors as undiciErrors, type Dispatcher } from 'undici';
import type { HttpMethod } from './model.js';

/** One HTTP push to a task's target. */
export interface PushRequest {
  url: string;
  method: HttpMethod;
  /** Final headers (lower-case names), already including the X-CloudTasks-* set. */
  headers: Record<string, string>;
  body?: Buffer;
  /** The task's dispatch deadline. */
  timeoutMs: number;
  /** An informational status (1xx) that settles the push as soon as it arrives (Pub/Sub push acks on 102 Processing). */
  settleOnInterim?: number;
}

/** What came back: a status, or no response (timeout / connection failure). */
export type PushResult =
  | { kind: 'response'; status: number; retryAfter?: string }
  | { kind: 'timeout'; message: string }
  | { kind: 'unreachable'; message: string };

/**
 * Pushes tasks over HTTP with a keep-alive connection pool per origin: opening a connection per task
 * would cap throughput far below what a local receiver can take. It uses undici's low-level
 * dispatch API: the response body is discarded as it arrives, without the stream and promise
 * machinery of `request()`, which matters at thousands of pushes per second.
 */
export class Pusher {
  private readonly agent = new Agent({
    connections: 256,
    keepAliveTimeout: 30_000,
    keepAliveMaxTimeout: 120_000,
    connect: { timeout: 10_000 },
  });
  /** Parsed URLs: tasks of a queue usually share a handful of targets. */
  private readonly urls = new Map<string, { origin: string; path: string } | null>();

  push(req: PushRequest): Promise<PushResult> {
    const target = this.parse(req.url);
    if (target === null) return Promise.resolve({ kind: 'unreachable', message: `invalid URL ${req.url}` });
    return new Promise<PushResult>((resolve) => {
      const handler = new PushHandler(resolve, req.timeoutMs, req.settleOnInterim);
      try {
        this.agent.dispatch(
          {
            origin: target.origin,
            path: target.path,
            method: req.method,
            headers: req.headers,
            body: req.body ?? null,
            headersTimeout: req.timeoutMs,
            bodyTimeout: req.timeoutMs,
          },
          handler,
        );
      } catch (err) {
        resolve({ kind: 'unreachable', message: (err as Error).message });
      }
    });
  }

  /** Closes pooled connections (pushes in flight are aborted). */
  async close(): Promise<void> {
    await this.agent.destroy();
  }

  private parse(url: string): { origin: string; path: string } | null {
    let hit = this.urls.get(url);
    if (hit === undefined) {
      try {
        const u = new URL(url);
        hit = { origin: u.origin, path: `${u.pathname}${u.search}` };
      } catch {
        hit = null;
      }
      if (this.urls.size >= 10_000) this.urls.clear();
      this.urls.set(url, hit);
    }
    return hit;
  }
}

/**
 * Collects one push's outcome. A class rather than an object of closures: one small allocation per
 * push. undici's Agent drives handlers through this classic callback set.
 */
class PushHandler implements Dispatcher.DispatchHandler {
  private status = 0;
  private retryAfter: string | undefined;

  constructor(
    private readonly resolve: (r: PushResult) => void,
    private readonly timeoutMs: number,
    private readonly settleOnInterim?: number,
  ) {}

  onConnect(): void {}

  onHeaders(statusCode: number, rawHeaders: Buffer[]): boolean {
    // undici reports interim (1xx) responses here too; the final one follows. A later resolve is a no-op.
    if (statusCode < 200 && statusCode === this.settleOnInterim) this.resolve({ kind: 'response', status: statusCode });
    this.status = statusCode;
    for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
      const name = rawHeaders[i]!;
      if (name.length === 11 && name.toString('latin1').toLowerCase() === 'retry-after') this.retryAfter = rawHeaders[i + 1]!.toString('latin1');
    }
    return true;
  }

  /** The target's answer body is not used; it is discarded as it streams in. */
  onData(): boolean {
    return true;
  }

  onComplete(): void {
    this.resolve(this.answered());
  }

  onError(err: Error): void {
    if (err instanceof undiciErrors.HeadersTimeoutError || err instanceof undiciErrors.BodyTimeoutError) {
      this.resolve({ kind: 'timeout', message: `no response within the dispatch deadline (${this.timeoutMs / 1000}s)` });
    } else if (this.status !== 0 && !(err instanceof undiciErrors.ClientDestroyedError)) {
      // The status line arrived but the body broke off: the target did answer.
      this.resolve(this.answered());
    } else {
      const e = err as { code?: string; message?: string };
      this.resolve({ kind: 'unreachable', message: e.code ?? e.message ?? 'connection failed' });
    }
  }

  private answered(): PushResult {
    return this.retryAfter === undefined
      ? { kind: 'response', status: this.status }
      : { kind: 'response', status: this.status, retryAfter: this.retryAfter };
  }
}
