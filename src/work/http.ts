/**
 * The HTTP runner: each job is POSTed as JSON to `WORKER_URL`, delivery facts in `X-Executor-*`
 * headers. The worker's status says the outcome: 2xx success (a JSON body becomes the result),
 * 408, 429 and 5xx retryable, any other status permanent; no answer in time, or no connection,
 * retryable.
 *
 * Requests go through the undici package's `fetch` with its own pooled keep-alive Agent, closed at
 * shutdown. Both come from the same package on purpose: Node's global fetch bundles another undici
 * whose handler API a newer package Agent rejects ("invalid onRequestStart method"). nock (15+)
 * intercepts this fetch too, so the contract stays testable without a real worker.
 */
import type { ReadableStreamReadResult } from 'node:stream/web';
import { Agent, fetch, type Response } from 'undici';
import { CodedError, messageOf } from '../errors.js';
import { HeadCollector } from './bounded.js';
import { describeAbort, startDeadline, type Deadline } from './deadline.js';
import { metadataHeaders } from './metadata.js';
import { clip, resultFromOutput, truncateUtf8 } from './outcome.js';
import type { Job, RunContext, RunOutcome, Runner, RunnerOptions } from './types.js';

/** How long close() lets requests in flight finish before tearing the pool down. */
const CLOSE_GRACE_MS = 1000;

/** How much of a failing worker's response body goes into the error message. */
const ERROR_BODY_BYTES = 1024;

/** Statuses that mean "try again later" rather than "this job is wrong". */
function isRetryableStatus(status: number): boolean {
  return status === 408 || status === 429 || status >= 500;
}

/**
 * Builds the runner for `url`. Credentials in the URL (`https://user:pass@host/…`) are sent as
 * HTTP Basic authentication and never appear in errors or logs.
 */
export function makeHttpRunner(url: string, options: RunnerOptions): Runner {
  const { target, authorization, display } = parseWorkerUrl(url);
  const { timeoutMs, maxOutputBytes } = options;
  // The run's own deadline governs; undici's per-phase timeouts only need to be no shorter.
  const agent = new Agent({ keepAliveTimeout: 10_000, headersTimeout: timeoutMs, bodyTimeout: timeoutMs });
  // Runs in flight, so close() can abort them through their own signals rather than relying on
  // the pool's teardown to settle them.
  const inFlight = new Set<Deadline>();

  return {
    kind: 'http',
    async run(job: Job, ctx: RunContext): Promise<RunOutcome> {
      const deadline = startDeadline(ctx.signal, timeoutMs);
      inFlight.add(deadline);
      try {
        const headers: Record<string, string> = {
          'content-type': 'application/json',
          accept: 'application/json, text/plain;q=0.9, */*;q=0.1',
          ...metadataHeaders(job, ctx),
        };
        if (authorization !== undefined) headers.authorization = authorization;
        const body = JSON.stringify(job.payload ?? null);
        const response = await fetch(target, {
          method: 'POST',
          headers,
          body,
          signal: deadline.signal,
          // A redirect means WORKER_URL is out of date; following it would re-send the job elsewhere.
          redirect: 'manual',
          dispatcher: agent,
        });
        const status = response.status;
        if (status >= 200 && status < 300) {
          const collected = await readBounded(response, maxOutputBytes);
          if (collected.truncated) {
            ctx.logger.warn({ maxOutputBytes, status }, 'HTTP worker response is larger than WORKER_MAX_OUTPUT_BYTES; reporting it truncated');
          }
          const result = resultFromOutput(truncateUtf8(collected.bytes, maxOutputBytes), collected.truncated);
          return result === undefined ? { kind: 'success' } : { kind: 'success', result };
        }
        const snippet = await readBounded(response, ERROR_BODY_BYTES).then(
          (c) => truncateUtf8(c.bytes, ERROR_BODY_BYTES).trim() + (c.truncated ? '…' : ''),
          () => '',
        );
        const hint = status >= 300 && status < 400 ? ` (redirect to ${response.headers.get('location') ?? 'nowhere'}: point WORKER_URL at the final URL)` : '';
        const error = {
          type: 'HttpStatus',
          message: clip(`worker ${display} answered ${status}${hint}${snippet !== '' ? `: ${snippet}` : ''}`),
        };
        return isRetryableStatus(status) ? { kind: 'retryable', error } : { kind: 'permanent', error };
      } catch (err) {
        const cause = deadline.cause();
        if (cause !== undefined) return { kind: 'retryable', error: describeAbort(cause, timeoutMs) };
        return { kind: 'retryable', error: { type: 'ConnectionError', message: clip(`cannot reach worker ${display}: ${networkReason(err)}`) } };
      } finally {
        inFlight.delete(deadline);
        deadline.dispose();
      }
    },
    async close() {
      for (const deadline of inFlight) deadline.abort();
      // Aborted requests release their connections; should one still linger, the pool is torn
      // down after a short wait rather than holding the process open.
      let timer: NodeJS.Timeout | undefined;
      const graceful = agent.close().then(() => true);
      const waited = new Promise<false>((resolve) => {
        timer = setTimeout(() => resolve(false), CLOSE_GRACE_MS);
      });
      const closed = await Promise.race([graceful, waited]);
      clearTimeout(timer);
      if (!closed) await agent.destroy();
    },
  };
}

/** Splits userinfo out of the worker URL: fetch refuses URLs with credentials, and logs must not see them. */
function parseWorkerUrl(url: string): { target: string; authorization?: string; display: string } {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new CodedError('WORKER_URL_INVALID', `WORKER_URL must be an http(s) URL, got '${url}'`);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw new CodedError('WORKER_URL_INVALID', `WORKER_URL must be an http(s) URL, got a '${parsed.protocol}' URL`);
  }
  let authorization: string | undefined;
  if (parsed.username !== '' || parsed.password !== '') {
    const user = decodeURIComponent(parsed.username);
    const pass = decodeURIComponent(parsed.password);
    authorization = `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}`;
    parsed.username = '';
    parsed.password = '';
  }
  return { target: parsed.href, display: `${parsed.origin}${parsed.pathname}`, ...(authorization !== undefined ? { authorization } : {}) };
}

/** Reads at most `cap` bytes of a body, then stops reading (and releases the connection). */
async function readBounded(response: Response, cap: number): Promise<{ bytes: Buffer; truncated: boolean }> {
  const collector = new HeadCollector(cap);
  if (response.body === null) return { bytes: Buffer.alloc(0), truncated: false };
  const reader = (response.body as ReadableStream<Uint8Array>).getReader();
  try {
    for (;;) {
      const chunk: ReadableStreamReadResult<Uint8Array> = await reader.read();
      if (chunk.done) break;
      const value = chunk.value;
      if (!collector.push(value)) {
        await reader.cancel().catch(() => undefined);
        break;
      }
    }
  } finally {
    reader.releaseLock();
  }
  return { bytes: collector.bytes(), truncated: collector.truncated };
}

/** The most useful words about a failed fetch: undici hides the system error in `cause`. */
function networkReason(err: unknown): string {
  const cause = err instanceof Error ? (err.cause as { code?: unknown; message?: unknown } | undefined) : undefined;
  if (cause !== undefined && typeof cause === 'object') {
    const code = typeof cause.code === 'string' ? cause.code : undefined;
    const message = typeof cause.message === 'string' ? cause.message : undefined;
    if (code !== undefined && message !== undefined && !message.includes(code)) return `${code} ${message}`;
    if (message !== undefined) return message;
    if (code !== undefined) return code;
  }
  return messageOf(err);
}
