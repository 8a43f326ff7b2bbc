import { randomInt } from 'node:crypto';
import type { Logger } from '../../log.js';
import { alreadyExists, ApiError, invalidArgument, notFound } from '../status.js';
import type { PushRequest, PushResult } from '../dispatch.js';
import { decodePageToken, encodePageToken, pageSize } from '../engine/paging.js';
import type { OidcSigner } from '../oidc.js';
import type { Clock } from './clock.js';
import { PUBSUB_LIMITS as L, type Delivery, type StoredMessage, type SubscriptionInput, type SubscriptionRecord, type TopicInput, type TopicRecord } from './model.js';
import { DELETED_TOPIC, parseProjectName, parseSubscriptionName, parseTopicName } from './names.js';
import { PUSH_FLOW, pushAcks, pushRequest, rfc3339 } from './push.js';
import { checkUpdateMask, maskedSubscriptionInput, resolveSubscription, resolveTopic } from './subscription-config.js';
import { parseFilter, type MessageFilter } from './filter.js';
import { PullWaiter, STREAM_BATCH, StreamConsumer, type Consumer } from './consumers.js';
import { checkPublish } from './publish-limits.js';
import { Timers, type TimerEntry } from './timers.js';

/** What the Pub/Sub engine needs from the outside world. */
export interface PubSubEngineOptions {
  clock: Clock;
  signer: OidcSigner;
  /** Sends one HTTP push (the shared Pusher, or a fake in unit tests). */
  push: (req: PushRequest) => Promise<PushResult>;
  logger: Logger;
  /** How long a Pull without returnImmediately waits for a message (ms); default 10 000. */
  pullWaitMs?: number;
}

/** Counters since start. */
export interface PubSubStats {
  published: number;
  delivered: number;
  acked: number;
  /** Nacks (ModifyAckDeadline 0, nacked pushes) and expired ack deadlines. */
  nacked: number;
  expired: number;
  deadLettered: number;
  /** Messages that reached their dead-letter limit while the dead-letter topic did not exist (dropped, logged). */
  deadLetterDropped: number;
  /** Messages a subscription's filter did not match (acknowledged on the subscriber's behalf, as production does). */
  filteredOut: number;
  /** Unacked messages dropped because they outlived the subscription's messageRetentionDuration. */
  retentionDropped: number;
  pushes: number;
}

/** One subscription's messages by state (the dashboard's counts). */
export interface SubscriptionCounts {
  /** Messages not leased to a subscriber (ready, or waiting out a backoff or their ordering key). */
  waiting: number;
  /** Messages delivered and not yet acked. */
  unacked: number;
}

/** Flow control and deadline of a StreamingPull stream (its first request). */
export interface StreamSettings {
  ackDeadlineSeconds: number;
  /** 0 = unlimited. */
  maxOutstandingMessages: number;
  /** 0 = unlimited. */
  maxOutstandingBytes: number;
}

/** An open StreamingPull stream, as the API layer drives it. */
export interface StreamHandle {
  ack(ackIds: string[]): void;
  modifyAckDeadline(ackIds: string[], seconds: number[]): void;
  setAckDeadline(seconds: number): void;
  close(): void;
}

/** A page of a list call. */
export interface Page<T> {
  items: T[];
  nextPageToken: string;
}

type EntryState = 'ready' | 'waiting' | 'leased';

/** One message in one subscription until it is acked (or dead-lettered). */
interface Entry {
  readonly seq: number;
  readonly msg: StoredMessage;
  readonly size: number;
  /** Ordering key when the subscription orders messages, else ''. */
  readonly key: string;
  state: EntryState;
  /** Deliveries so far (deliveryAttempt of the latest). */
  attempts: number;
  /** Bumped on every lease and revocation: an ack id carries it, so stale ack ids do nothing. */
  gen: number;
  consumer: Consumer | undefined;
  timer: TimerEntry | undefined;
}

/** Delivery order of one ordering key: unacked entries in publish order, a delivered prefix. */
interface KeyState {
  list: Entry[];
  /** list[0 .. delivered) are leased. */
  delivered: number;
  /** After a nack the key waits for the head's backoff. */
  blocked: boolean;
}

class SubRuntime {
  readonly entries = new Map<number, Entry>();
  /** Unordered entries ready for delivery, FIFO (with a moving head; stale entries are skipped). */
  ready: Entry[] = [];
  readyHead = 0;
  readonly keys = new Map<string, KeyState>();
  /** Keys that may have something to deliver. */
  readonly readyKeys = new Set<string>();
  readonly consumers: Consumer[] = [];
  rr = 0;
  pushConsumer: PushConsumer | undefined;
  /** The compiled filter (the filter is immutable); undefined: every message. */
  readonly filter: MessageFilter | undefined;
  deleted = false;
  readonly streams = new Set<{ end: (e: ApiError) => void }>();

  constructor(
    public record: SubscriptionRecord,
    readonly index: number,
  ) {
    this.filter = record.filter === '' ? undefined : parseFilter(record.filter);
  }
}

/** Push delivery of one subscription: a window of requests in flight and a subscription-wide backoff. */
class PushConsumer implements Consumer {
  outstanding = 0;
  outstandingBytes = 0;
  window: number = PUSH_FLOW.initialWindow;
  backoffMs = 0;
  resumeAt = 0;
  resumeTimer: TimerEntry | undefined;

  constructor(
    private readonly engine: PubSubEngine,
    readonly sub: SubRuntime,
  ) {}

  room(): number {
    if (this.engine.now() < this.resumeAt) return 0;
    return Math.max(0, this.window - this.outstanding);
  }
  byteRoom(): number {
    return Infinity;
  }
  deadlineSeconds(): number {
    return this.sub.record.ackDeadlineSeconds;
  }
  take(deliveries: Delivery[]): void {
    for (const d of deliveries) this.engine.sendPush(this, d);
  }
}

/**
 * The Pub/Sub engine: topics, subscriptions, leases and redelivery, ordering keys, retry and
 * dead-letter policies, push. Event-driven: every deadline and backoff is one entry in a timer
 * heap behind a single clock timer, deliveries happen when something changes (a publish, an ack,
 * a consumer arriving), so an idle emulator does nothing.
 */
export class PubSubEngine {
  private readonly topics = new Map<string, { record: TopicRecord; subs: Set<SubRuntime> }>();
  private readonly subs = new Map<string, SubRuntime>();
  private readonly timers: Timers;
  private readonly clock: Clock;
  private readonly pullWaitMs: number;
  /** Ack ids start with this run's prefix, so ids from an earlier run are recognised as expired. */
  private readonly ackPrefix = randomInt(1000, 9999).toString(36);
  private seq = 0;
  private subIndex = 0;
  private messageCounter = 0;
  private readonly messageIdBase = randomInt(1_000_000, 8_000_000) * 1_000_000_000;
  private readonly subsByIndex = new Map<number, SubRuntime>();
  private readonly counters: PubSubStats = { published: 0, delivered: 0, acked: 0, nacked: 0, expired: 0, deadLettered: 0, deadLetterDropped: 0, retentionDropped: 0, filteredOut: 0, pushes: 0 };
  private closed = false;
  private readonly listeners = new Set<() => void>();

  constructor(private readonly options: PubSubEngineOptions) {
    this.clock = options.clock;
    this.timers = new Timers(options.clock);
    this.pullWaitMs = options.pullWaitMs ?? 10_000;
  }

  now(): number {
    return this.clock.now();
  }

  stats(): PubSubStats {
    return { ...this.counters };
  }

  /**
   * Calls `listener` after topics, subscriptions or their messages change (synchronously, often in
   * bursts: the caller coalesces). For the dashboard's live updates. Returns the unsubscribe.
   */
  onChange(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private changed(): void {
    for (const l of this.listeners) l();
  }

  /** Every topic and every subscription, of all projects, sorted by name (the dashboard's view). */
  everything(): { topics: TopicRecord[]; subscriptions: SubscriptionRecord[] } {
    const sorted = <T extends { name: string }>(xs: T[]): T[] => xs.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    return { topics: sorted([...this.topics.values()].map((t) => t.record)), subscriptions: sorted([...this.subs.values()].map((s) => s.record)) };
  }

  /** A subscription's waiting and unacked messages. */
  subscriptionCounts(name: string): SubscriptionCounts {
    const counts: SubscriptionCounts = { waiting: 0, unacked: 0 };
    for (const e of this.sub(name).entries.values()) counts[e.state === 'leased' ? 'unacked' : 'waiting']++;
    return counts;
  }

  close(): void {
    this.closed = true;
    this.timers.close();
    for (const sub of this.subs.values()) for (const s of sub.streams) s.end(new ApiError('UNAVAILABLE', 'The emulator is shutting down.'));
  }

  // ---- topics -------------------------------------------------------------------------------

  createTopic(input: TopicInput): TopicRecord {
    const record = resolveTopic(input);
    if (this.topics.has(record.name)) throw alreadyExists(`Resource already exists in the project (resource=${parseTopicName(record.name).id}).`);
    this.topics.set(record.name, { record, subs: new Set() });
    this.changed();
    return record;
  }

  getTopic(name: string): TopicRecord {
    return this.topic(name).record;
  }

  updateTopic(input: TopicInput, mask: string[] | undefined): TopicRecord {
    const t = this.topic(input.name ?? '');
    const paths = checkUpdateMask(mask, 'topic');
    t.record = resolveTopic(input, t.record, paths);
    this.changed();
    return t.record;
  }

  deleteTopic(name: string): void {
    const t = this.topic(name);
    this.topics.delete(name);
    // As in production, subscriptions outlive their topic and show it as _deleted-topic_.
    for (const sub of t.subs) sub.record = { ...sub.record, topic: DELETED_TOPIC };
    this.changed();
  }

  listTopics(project: string, size?: number, token?: string): Page<TopicRecord> {
    parseProjectName(project);
    const prefix = `${project}/topics/`;
    return page([...this.topics.keys()].filter((n) => n.startsWith(prefix)), project, size, token, (n) => this.topics.get(n)!.record);
  }

  listTopicSubscriptions(topic: string, size?: number, token?: string): Page<string> {
    const t = this.topic(topic);
    return page([...t.subs].map((s) => s.record.name), topic, size, token, (n) => n);
  }

  /** Publish: validates the whole batch first, so a rejected request publishes nothing. Returns the message ids. */
  publish(topicName: string, messages: Array<{ data?: Buffer | undefined; attributes?: Record<string, string> | undefined; orderingKey?: string | undefined }>): string[] {
    const t = this.topic(topicName);
    checkPublish(messages);
    const now = this.clock.now();
    const ids: string[] = [];
    const stored: StoredMessage[] = [];
    for (const m of messages) {
      const messageId = String(this.messageIdBase + ++this.messageCounter);
      ids.push(messageId);
      stored.push({ data: m.data ?? Buffer.alloc(0), attributes: m.attributes ?? {}, messageId, publishTimeMs: now, orderingKey: m.orderingKey ?? '' });
    }
    this.counters.published += stored.length;
    for (const sub of t.subs) {
      for (const msg of stored) this.enqueue(sub, msg);
      this.pump(sub);
    }
    this.changed();
    return ids;
  }

  // ---- subscriptions ------------------------------------------------------------------------

  createSubscription(input: SubscriptionInput): SubscriptionRecord {
    const record = resolveSubscription(input);
    const topic = this.topics.get(record.topic);
    if (topic === undefined) throw notFound(`Resource not found (resource=${parseTopicName(record.topic).id}).`);
    if (record.deadLetterPolicy !== undefined && !this.topics.has(record.deadLetterPolicy.deadLetterTopic)) {
      throw notFound(`Resource not found (resource=${parseTopicName(record.deadLetterPolicy.deadLetterTopic).id}).`);
    }
    if (this.subs.has(record.name)) throw alreadyExists(`Resource already exists in the project (resource=${parseSubscriptionName(record.name).id}).`);
    const sub = new SubRuntime(record, ++this.subIndex);
    this.subs.set(record.name, sub);
    this.subsByIndex.set(sub.index, sub);
    topic.subs.add(sub);
    this.configurePush(sub);
    this.changed();
    return record;
  }

  getSubscription(name: string): SubscriptionRecord {
    return this.sub(name).record;
  }

  updateSubscription(input: SubscriptionInput, mask: string[] | undefined): SubscriptionRecord {
    const sub = this.sub(input.name ?? '');
    const paths = checkUpdateMask(mask, 'subscription');
    const next = resolveSubscription({ ...maskedSubscriptionInput(input, paths), name: sub.record.name }, sub.record);
    if (paths.includes('dead_letter_policy') && next.deadLetterPolicy !== undefined && !this.topics.has(next.deadLetterPolicy.deadLetterTopic)) {
      throw notFound(`Resource not found (resource=${parseTopicName(next.deadLetterPolicy.deadLetterTopic).id}).`);
    }
    sub.record = next;
    this.configurePush(sub);
    this.pump(sub);
    this.changed();
    return next;
  }

  modifyPushConfig(name: string, pushConfig: SubscriptionRecord['pushConfig']): void {
    const sub = this.sub(name);
    const next = resolveSubscription(pushConfig === undefined ? {} : { pushConfig }, { ...sub.record, pushConfig: undefined });
    if (pushConfig === undefined) delete next.pushConfig;
    sub.record = next;
    this.configurePush(sub);
    this.pump(sub);
    this.changed();
  }

  deleteSubscription(name: string): void {
    const sub = this.sub(name);
    sub.deleted = true;
    this.subs.delete(name);
    this.subsByIndex.delete(sub.index);
    this.topics.get(sub.record.topic)?.subs.delete(sub);
    for (const e of sub.entries.values()) this.timers.cancel(e.timer);
    if (sub.pushConsumer) this.timers.cancel(sub.pushConsumer.resumeTimer);
    for (const s of sub.streams) s.end(notFound(`Resource not found (resource=${parseSubscriptionName(name).id}).`));
    for (const c of sub.consumers) if (c instanceof PullWaiter) c.cancel(notFound(`Resource not found (resource=${parseSubscriptionName(name).id}).`));
    this.changed();
  }

  listSubscriptions(project: string, size?: number, token?: string): Page<SubscriptionRecord> {
    parseProjectName(project);
    const prefix = `${project}/subscriptions/`;
    return page([...this.subs.keys()].filter((n) => n.startsWith(prefix)), project, size, token, (n) => this.subs.get(n)!.record);
  }

  // ---- receiving ----------------------------------------------------------------------------

  /**
   * Pull: up to `maxMessages` now; without `returnImmediately` it waits (up to pullWaitMs) for the
   * first message when there is none. `signal` lets the API layer give up when the call is cancelled.
   */
  pull(name: string, maxMessages: number, returnImmediately: boolean, signal?: AbortSignal): Promise<Delivery[]> {
    const sub = this.sub(name);
    if (!Number.isInteger(maxMessages) || maxMessages <= 0) throw invalidArgument(`No max_messages specified: it must be a positive integer, got ${maxMessages}.`);
    // Production lets push subscriptions be pulled too: Pull simply competes with the push dispatcher.
    const now = this.collect(sub, Math.min(maxMessages, STREAM_BATCH), Infinity, null, sub.record.ackDeadlineSeconds);
    if (now.length > 0 || returnImmediately) return Promise.resolve(now);
    return new Promise<Delivery[]>((resolve, reject) => {
      const waiter = new PullWaiter(Math.min(maxMessages, STREAM_BATCH), sub.record.ackDeadlineSeconds, (d) => {
        remove();
        resolve(d);
      }, (e) => {
        remove();
        reject(e);
      });
      const timer = this.timers.at(this.clock.now() + this.pullWaitMs, () => waiter.finish([]));
      const onAbort = (): void => waiter.cancel(new ApiError('CANCELLED', 'The pull was cancelled.'));
      const remove = (): void => {
        this.timers.cancel(timer);
        signal?.removeEventListener('abort', onAbort);
        const i = sub.consumers.indexOf(waiter);
        if (i >= 0) sub.consumers.splice(i, 1);
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      sub.consumers.push(waiter);
    });
  }

  /** Opens a StreamingPull stream: `send` gets each batch of deliveries, `end` the error that ends it (subscription deleted, shutdown). */
  openStream(name: string, settings: StreamSettings, send: (d: Delivery[]) => void, end: (e: ApiError) => void): StreamHandle {
    const sub = this.sub(name);
    checkStreamDeadline(settings.ackDeadlineSeconds);
    const consumer = new StreamConsumer(settings, send);
    const ender = { end };
    sub.consumers.push(consumer);
    sub.streams.add(ender);
    this.pump(sub);
    return {
      ack: (ids) => this.acknowledge(name, ids),
      modifyAckDeadline: (ids, seconds) => {
        if (ids.length !== seconds.length) {
          throw invalidArgument(`modify_deadline_seconds has ${seconds.length} entries but modify_deadline_ack_ids has ${ids.length}: they must be the same length.`);
        }
        // Group by deadline: the client sends one deadline for a whole batch.
        for (let i = 0; i < ids.length; i++) this.modifyAckDeadline(name, [ids[i]!], seconds[i]!);
      },
      setAckDeadline: (s) => {
        checkStreamDeadline(s);
        consumer.settings.ackDeadlineSeconds = s;
      },
      close: () => {
        sub.streams.delete(ender);
        const i = sub.consumers.indexOf(consumer);
        if (i >= 0) sub.consumers.splice(i, 1);
        // Its leases stay until their deadlines pass, as in production; then the messages go to other consumers.
      },
    };
  }

  acknowledge(name: string, ackIds: string[]): void {
    const sub = this.sub(name);
    if (ackIds.length === 0) throw invalidArgument('ack_ids must not be empty.');
    for (const id of ackIds) {
      const e = this.leased(sub, id);
      if (e !== undefined) this.ackEntry(sub, e);
    }
    this.pump(sub);
  }

  modifyAckDeadline(name: string, ackIds: string[], seconds: number): void {
    const sub = this.sub(name);
    if (ackIds.length === 0) throw invalidArgument('ack_ids must not be empty.');
    if (!Number.isInteger(seconds) || seconds < 0 || seconds > L.maxAckDeadlineSeconds) {
      throw invalidArgument(`Invalid ack_deadline_seconds ${seconds}: it must be between 0 and 600 seconds.`);
    }
    const now = this.clock.now();
    for (const id of ackIds) {
      const e = this.leased(sub, id);
      if (e === undefined) continue;
      if (seconds === 0) {
        this.counters.nacked++;
        this.fail(sub, e, now);
      } else {
        this.timers.cancel(e.timer);
        const gen = e.gen;
        e.timer = this.timers.at(now + seconds * 1000, () => this.expire(sub, e, gen));
      }
    }
    this.pump(sub);
  }

  // ---- internals ----------------------------------------------------------------------------

  private topic(name: string): { record: TopicRecord; subs: Set<SubRuntime> } {
    const t = this.topics.get(name);
    if (t !== undefined) return t;
    const { id } = parseTopicName(name);
    throw notFound(`Resource not found (resource=${id}).`);
  }

  private sub(name: string): SubRuntime {
    const s = this.subs.get(name);
    if (s !== undefined) return s;
    const { id } = parseSubscriptionName(name);
    throw notFound(`Resource not found (resource=${id}).`);
  }

  private configurePush(sub: SubRuntime): void {
    if (sub.record.pushConfig === undefined) {
      if (sub.pushConsumer !== undefined) {
        this.timers.cancel(sub.pushConsumer.resumeTimer);
        const i = sub.consumers.indexOf(sub.pushConsumer);
        if (i >= 0) sub.consumers.splice(i, 1);
        sub.pushConsumer = undefined;
      }
      return;
    }
    if (sub.pushConsumer === undefined) {
      sub.pushConsumer = new PushConsumer(this, sub);
      sub.consumers.push(sub.pushConsumer);
    }
  }

  private enqueue(sub: SubRuntime, msg: StoredMessage): void {
    // Production acknowledges messages that do not match the filter on the subscriber's behalf.
    if (sub.filter !== undefined && !sub.filter(msg.attributes)) {
      this.counters.filteredOut++;
      return;
    }
    const key = sub.record.enableMessageOrdering ? msg.orderingKey : '';
    const e: Entry = { seq: ++this.seq, msg, size: msg.data.length, key, state: 'ready', attempts: 0, gen: 0, consumer: undefined, timer: undefined };
    sub.entries.set(e.seq, e);
    if (key === '') {
      sub.ready.push(e);
      return;
    }
    let ks = sub.keys.get(key);
    if (ks === undefined) {
      ks = { list: [], delivered: 0, blocked: false };
      sub.keys.set(key, ks);
    }
    ks.list.push(e);
    if (!ks.blocked) sub.readyKeys.add(key);
  }

  /** Hands ready messages to consumers with room, round robin. */
  private pump(sub: SubRuntime): void {
    if (this.closed || sub.deleted) return;
    for (let guard = 0; guard < 10_000; guard++) {
      if (!this.hasReady(sub)) return;
      const n = sub.consumers.length;
      let delivered = false;
      for (let k = 0; k < n; k++) {
        const c = sub.consumers[(sub.rr + k) % n]!;
        const room = c.room();
        if (room <= 0 || c.byteRoom() <= 0) continue;
        sub.rr = (sub.rr + k + 1) % Math.max(1, n);
        const batch = this.collect(sub, Math.min(room, STREAM_BATCH), c.byteRoom(), c, c.deadlineSeconds());
        if (batch.length > 0) {
          c.take(batch);
          delivered = true;
        }
        break;
      }
      if (!delivered) return;
    }
  }

  private hasReady(sub: SubRuntime): boolean {
    while (sub.readyHead < sub.ready.length && sub.ready[sub.readyHead]!.state !== 'ready') sub.readyHead++;
    if (sub.readyHead > 1024 && sub.readyHead * 2 > sub.ready.length) {
      sub.ready = sub.ready.slice(sub.readyHead);
      sub.readyHead = 0;
    }
    return sub.readyHead < sub.ready.length || sub.readyKeys.size > 0;
  }

  /** Leases up to `max` ready messages (ordered keys first, in key order) to `consumer`. */
  private collect(sub: SubRuntime, max: number, maxBytes: number, consumer: Consumer | null, deadlineS: number): Delivery[] {
    const out: Delivery[] = [];
    let bytes = 0;
    const now = this.clock.now();
    for (const key of sub.readyKeys) {
      const ks = sub.keys.get(key);
      if (ks === undefined || ks.blocked) {
        sub.readyKeys.delete(key);
        continue;
      }
      while (ks.delivered < ks.list.length && out.length < max && bytes < maxBytes) {
        const e = ks.list[ks.delivered]!;
        if (this.outlived(sub, e, now)) continue;
        ks.delivered++;
        bytes += e.size;
        out.push(this.lease(sub, e, consumer, deadlineS, now));
      }
      if (ks.delivered >= ks.list.length) sub.readyKeys.delete(key);
      if (out.length >= max || bytes >= maxBytes) return out;
    }
    while (out.length < max && bytes < maxBytes && sub.readyHead < sub.ready.length) {
      const e = sub.ready[sub.readyHead++]!;
      if (e.state !== 'ready' || this.outlived(sub, e, now)) continue;
      bytes += e.size;
      out.push(this.lease(sub, e, consumer, deadlineS, now));
    }
    return out;
  }

  /**
   * Drops (and says so) a message older than the subscription's retention, as production discards
   * unacked messages after messageRetentionDuration. Checked when a message is about to go out.
   */
  private outlived(sub: SubRuntime, e: Entry, now: number): boolean {
    if (now - e.msg.publishTimeMs <= sub.record.messageRetentionDurationMs) return false;
    this.remove(sub, e);
    this.counters.retentionDropped++;
    return true;
  }

  private lease(sub: SubRuntime, e: Entry, consumer: Consumer | null, deadlineS: number, now: number): Delivery {
    e.state = 'leased';
    e.attempts++;
    const gen = ++e.gen;
    e.consumer = consumer ?? undefined;
    if (consumer !== null) {
      consumer.outstanding++;
      consumer.outstandingBytes += e.size;
    }
    // A push's deadline is its request timeout; every other lease expires by timer.
    if (!(consumer instanceof PushConsumer)) e.timer = this.timers.at(now + deadlineS * 1000, () => this.expire(sub, e, gen));
    this.counters.delivered++;
    this.changed();
    return {
      ackId: `${this.ackPrefix}-${sub.index}-${e.seq}-${gen}`,
      message: e.msg,
      deliveryAttempt: sub.record.deadLetterPolicy !== undefined ? e.attempts : 0,
    };
  }

  /** The leased entry an ack id names, if the lease is still current. Malformed ids are INVALID_ARGUMENT. */
  private leased(sub: SubRuntime, ackId: string): Entry | undefined {
    const m = /^([0-9a-z]+)-(\d+)-(\d+)-(\d+)$/.exec(ackId);
    if (m === null) throw invalidArgument(`Invalid ack id (ack_id=${ackId.slice(0, 100)}): pass an ack_id received from Pull or StreamingPull.`);
    if (m[1] !== this.ackPrefix || Number(m[2]) !== sub.index) return undefined;
    const e = sub.entries.get(Number(m[3]));
    if (e === undefined || e.state !== 'leased' || e.gen !== Number(m[4])) return undefined;
    return e;
  }

  private endLease(e: Entry): void {
    this.timers.cancel(e.timer);
    e.timer = undefined;
    const c = e.consumer;
    if (c !== undefined) {
      c.outstanding--;
      c.outstandingBytes -= e.size;
      e.consumer = undefined;
    }
  }

  private ackEntry(sub: SubRuntime, e: Entry): void {
    this.endLease(e);
    this.counters.acked++;
    this.remove(sub, e);
  }

  private remove(sub: SubRuntime, e: Entry): void {
    this.changed();
    e.state = 'waiting';
    e.gen++;
    sub.entries.delete(e.seq);
    if (e.key !== '') {
      const ks = sub.keys.get(e.key)!;
      const i = ks.list.indexOf(e);
      if (i >= 0) {
        ks.list.splice(i, 1);
        if (i < ks.delivered) ks.delivered--;
      }
      if (ks.list.length === 0) {
        sub.keys.delete(e.key);
        sub.readyKeys.delete(e.key);
      }
    }
  }

  private expire(sub: SubRuntime, e: Entry, gen: number): void {
    if (sub.deleted || e.gen !== gen || e.state !== 'leased') return;
    e.timer = undefined;
    this.counters.expired++;
    this.counters.nacked++;
    this.fail(sub, e, this.clock.now());
    this.pump(sub);
  }

  /** A nack or an expired lease: dead-letter, or redeliver after the retry policy's backoff (at once without one). */
  private fail(sub: SubRuntime, e: Entry, now: number): void {
    this.changed();
    this.endLease(e);
    const dl = sub.record.deadLetterPolicy;
    if (dl !== undefined && e.attempts >= dl.maxDeliveryAttempts) {
      this.deadLetter(sub, e, dl.deadLetterTopic);
      return;
    }
    const backoff = backoffMs(sub.record, e.attempts);
    if (e.key === '') {
      e.gen++;
      if (backoff <= 0) this.makeReady(sub, e);
      else {
        e.state = 'waiting';
        const gen = e.gen;
        e.timer = this.timers.at(now + backoff, () => {
          if (e.gen === gen && !sub.deleted) {
            e.timer = undefined;
            this.makeReady(sub, e);
            this.pump(sub);
          }
        });
      }
      return;
    }
    // Ordered: this message and every later one of its key are delivered again, in order.
    const ks = sub.keys.get(e.key)!;
    const i = ks.list.indexOf(e);
    for (let j = i; j < ks.delivered; j++) {
      const later = ks.list[j]!;
      if (later !== e) this.endLease(later);
      later.state = 'ready';
      later.gen++;
    }
    ks.delivered = Math.min(ks.delivered, i);
    if (backoff <= 0) {
      sub.readyKeys.add(e.key);
      return;
    }
    ks.blocked = true;
    sub.readyKeys.delete(e.key);
    e.timer = this.timers.at(now + backoff, () => {
      e.timer = undefined;
      if (sub.deleted || sub.keys.get(e.key) !== ks) return;
      ks.blocked = false;
      sub.readyKeys.add(e.key);
      this.pump(sub);
    });
  }

  private makeReady(sub: SubRuntime, e: Entry): void {
    e.state = 'ready';
    sub.ready.push(e);
  }

  private deadLetter(sub: SubRuntime, e: Entry, topicName: string): void {
    this.remove(sub, e);
    const t = this.topics.get(topicName);
    const { project, id } = parseSubscriptionName(sub.record.name);
    if (t === undefined) {
      this.counters.deadLetterDropped++;
      this.options.logger.warn({ subscription: sub.record.name, deadLetterTopic: topicName, messageId: e.msg.messageId }, 'dead-letter topic does not exist: message dropped');
      return;
    }
    this.counters.deadLettered++;
    this.publish(topicName, [
      {
        data: e.msg.data,
        orderingKey: e.msg.orderingKey,
        attributes: {
          ...e.msg.attributes,
          CloudPubSubDeadLetterSourceDeliveryCount: String(e.attempts),
          CloudPubSubDeadLetterSourceSubscription: id,
          CloudPubSubDeadLetterSourceSubscriptionProject: project,
          CloudPubSubDeadLetterSourceTopicPublishTime: rfc3339(e.msg.publishTimeMs),
        },
      },
    ]);
  }

  /** One push (called by the push consumer); the answer acks or nacks, and drives the window and backoff. */
  sendPush(c: PushConsumer, d: Delivery): void {
    const sub = c.sub;
    const e = this.leased(sub, d.ackId)!;
    const gen = e.gen;
    this.counters.pushes++;
    const req = pushRequest(sub.record, d, this.options.signer, this.clock.now());
    this.options.push(req).then(
      (r) => this.pushed(c, e, gen, r),
      (err: unknown) => this.pushed(c, e, gen, { kind: 'unreachable', message: String(err) }),
    );
  }

  private pushed(c: PushConsumer, e: Entry, gen: number, r: PushResult): void {
    const sub = c.sub;
    if (sub.deleted || e.gen !== gen || e.state !== 'leased') return;
    const now = this.clock.now();
    if (r.kind === 'response' && pushAcks(r.status)) {
      this.ackEntry(sub, e);
      c.window = Math.min(PUSH_FLOW.maxWindow, c.window + 1);
      c.backoffMs = c.backoffMs / 2 < PUSH_FLOW.minBackoffMs ? 0 : c.backoffMs / 2;
    } else {
      this.options.logger.debug(
        { subscription: sub.record.name, messageId: e.msg.messageId, result: r.kind === 'response' ? r.status : r.kind },
        'push nacked',
      );
      this.counters.nacked++;
      this.fail(sub, e, now);
      // Production's push backoff holds back the whole subscription, not just this message.
      c.window = Math.max(1, Math.floor(c.window / 2));
      c.backoffMs = Math.min(PUSH_FLOW.maxBackoffMs, Math.max(PUSH_FLOW.minBackoffMs, c.backoffMs * 2));
      c.resumeAt = now + c.backoffMs;
      this.timers.cancel(c.resumeTimer);
      c.resumeTimer = this.timers.at(c.resumeAt, () => {
        c.resumeTimer = undefined;
        this.pump(sub);
      });
    }
    this.pump(sub);
  }
}

/** The redelivery delay after the `attempts`-th delivery failed: none without a retry policy, else doubling from the minimum up to the maximum. */
export function backoffMs(sub: Pick<SubscriptionRecord, 'retryPolicy'>, attempts: number): number {
  const p = sub.retryPolicy;
  if (p === undefined) return 0;
  return Math.min(p.maximumBackoffMs, p.minimumBackoffMs * 2 ** Math.max(0, Math.min(30, attempts - 1)));
}

function checkStreamDeadline(s: number): void {
  if (!Number.isInteger(s) || s < L.minAckDeadlineSeconds || s > L.maxAckDeadlineSeconds) {
    throw invalidArgument(`Invalid stream_ack_deadline_seconds ${s}: it must be between 10 and 600 seconds.`);
  }
}

function page<T>(names: string[], parent: string, size: number | undefined, token: string | undefined, get: (n: string) => T): Page<T> {
  const n = pageSize(size, L.maxPageSize);
  const after = token ? String(decodePageToken(token, parent)) : undefined;
  const sorted = names.sort();
  const start = after === undefined ? 0 : sorted.findIndex((x) => x > after);
  const from = start < 0 ? sorted.length : start;
  const slice = sorted.slice(from, from + n);
  const more = from + n < sorted.length;
  return { items: slice.map(get), nextPageToken: more ? encodePageToken(parent, slice[slice.length - 1]!) : '' };
}
