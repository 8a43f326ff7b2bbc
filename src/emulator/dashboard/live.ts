/**
 * Server-sent events for the dashboard: every open page holds one `/ui/events` stream and is told
 * "changed" after engine changes, at most once per interval. Driven by the engine's change events:
 * the server runs no timer while nothing happens.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';

/** The open event streams, and the throttle that coalesces bursts of changes into one message. */
export class LiveUpdates {
  private readonly clients = new Set<ServerResponse>();
  private timer: NodeJS.Timeout | undefined;

  /** `intervalMs`: at most one message per interval, so a busy batch costs a few refreshes a second. */
  constructor(private readonly intervalMs = 300) {}

  /** Number of open streams. */
  get size(): number {
    return this.clients.size;
  }

  /** Turns a request into an event stream until the client goes away. */
  open(req: IncomingMessage, res: ServerResponse): void {
    res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store', connection: 'keep-alive', 'x-accel-buffering': 'no' });
    // `retry`: how long a browser waits before reconnecting after the emulator restarts.
    res.write('retry: 2000\n\n');
    this.clients.add(res);
    const gone = (): void => {
      this.clients.delete(res);
    };
    req.once('close', gone);
    res.once('close', gone);
  }

  /** Something changed: tell every stream soon (once for a burst). */
  changed(): void {
    if (this.clients.size === 0 || this.timer !== undefined) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      for (const c of this.clients) c.write('data: changed\n\n');
    }, this.intervalMs);
  }

  /** Ends every stream. */
  close(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    for (const c of this.clients) c.end();
    this.clients.clear();
  }
}
