import type { ApiError } from '../status.js';
import type { StreamSettings } from './engine.js';
import type { Delivery } from './model.js';

/** Most messages handed to a consumer in one batch (one StreamingPull response, one Pull). */
export const STREAM_BATCH = 1000;

/** Who receives deliveries: a stream, a waiting Pull, or the push dispatcher. */
export interface Consumer {
  /** How many more messages it takes now. */
  room(): number;
  /** Bytes it still takes now (Infinity: no byte limit). */
  byteRoom(): number;
  /** Its ack deadline for what it receives (s). */
  deadlineSeconds(): number;
  take(deliveries: Delivery[]): void;
  outstanding: number;
  outstandingBytes: number;
}

/** A StreamingPull stream as a consumer: flow control from its first request. */
export class StreamConsumer implements Consumer {
  outstanding = 0;
  outstandingBytes = 0;
  constructor(
    readonly settings: StreamSettings,
    private readonly send: (d: Delivery[]) => void,
  ) {}
  room(): number {
    const max = this.settings.maxOutstandingMessages;
    return max <= 0 ? STREAM_BATCH : max - this.outstanding;
  }
  byteRoom(): number {
    const max = this.settings.maxOutstandingBytes;
    return max <= 0 ? Infinity : max - this.outstandingBytes;
  }
  deadlineSeconds(): number {
    return this.settings.ackDeadlineSeconds;
  }
  take(d: Delivery[]): void {
    this.send(d);
  }
}

/** A Pull waiting for its first message: takes one batch, then leaves. */
export class PullWaiter implements Consumer {
  outstanding = 0;
  outstandingBytes = 0;
  private done = false;
  constructor(
    private readonly max: number,
    private readonly deadlineS: number,
    private readonly resolve: (d: Delivery[]) => void,
    private readonly reject: (e: ApiError) => void,
  ) {}
  room(): number {
    return this.done ? 0 : this.max;
  }
  byteRoom(): number {
    return Infinity;
  }
  deadlineSeconds(): number {
    return this.deadlineS;
  }
  take(d: Delivery[]): void {
    this.finish(d);
  }
  finish(d: Delivery[]): void {
    if (this.done) return;
    this.done = true;
    this.resolve(d);
  }
  cancel(e: ApiError): void {
    if (this.done) return;
    this.done = true;
    this.reject(e);
  }
}
