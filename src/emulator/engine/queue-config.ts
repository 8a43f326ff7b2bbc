import { invalidArgument } from '../status.js';
import { DEFAULT_RATE, DEFAULT_RETRY, LIMITS, type AppEngineRouting, type QueueInput, type QueueRecord, type RateLimits, type RetryConfig } from '../model.js';
import { deriveBurstSize } from './token-bucket.js';

/** Update-mask paths the emulator accepts (camelCase; snake_case is normalised before). */
const UPDATABLE = new Set([
  'rateLimits',
  'rateLimits.maxDispatchesPerSecond',
  'rateLimits.maxConcurrentDispatches',
  'rateLimits.maxBurstSize',
  'retryConfig',
  'retryConfig.maxAttempts',
  'retryConfig.maxRetryDuration',
  'retryConfig.minBackoff',
  'retryConfig.maxBackoff',
  'retryConfig.maxDoublings',
  'stackdriverLoggingConfig',
  'stackdriverLoggingConfig.samplingRatio',
  'appEngineRoutingOverride',
]);

/** snake_case → camelCase for each segment of a field-mask path (gRPC clients send snake_case). */
export function normaliseMaskPath(path: string): string {
  return path
    .trim()
    .split('.')
    .map((seg) => seg.replace(/_([a-z])/g, (_m, c: string) => c.toUpperCase()))
    .join('.');
}

function rateFrom(input: QueueInput['rateLimits'], base: Pick<RateLimits, 'maxDispatchesPerSecond' | 'maxConcurrentDispatches'>): RateLimits {
  // Zero means "unset" on the wire (proto3 default), so production applies the default.
  const maxDispatchesPerSecond = input?.maxDispatchesPerSecond || base.maxDispatchesPerSecond;
  const maxConcurrentDispatches = input?.maxConcurrentDispatches || base.maxConcurrentDispatches;
  return { maxDispatchesPerSecond, maxConcurrentDispatches, maxBurstSize: deriveBurstSize(maxDispatchesPerSecond) };
}

function retryFrom(input: QueueInput['retryConfig'], base: RetryConfig): RetryConfig {
  return {
    maxAttempts: input?.maxAttempts || base.maxAttempts,
    maxRetryDurationMs: input?.maxRetryDurationMs ?? base.maxRetryDurationMs,
    minBackoffMs: input?.minBackoffMs || base.minBackoffMs,
    maxBackoffMs: input?.maxBackoffMs || base.maxBackoffMs,
    maxDoublings: input?.maxDoublings ?? base.maxDoublings,
  };
}

/** Validates the settings of a queue, with production's limits; throws INVALID_ARGUMENT naming the field. */
export function validateQueueSettings(q: Pick<QueueRecord, 'rateLimits' | 'retryConfig'> & { stackdriverSamplingRatio?: number }): void {
  const { rateLimits: r, retryConfig: c } = q;
  if (!Number.isFinite(r.maxDispatchesPerSecond) || r.maxDispatchesPerSecond < 0 || r.maxDispatchesPerSecond > LIMITS.maxDispatchesPerSecond) {
    throw invalidArgument(
      `rate_limits.max_dispatches_per_second must be between 0 and ${LIMITS.maxDispatchesPerSecond}, got ${r.maxDispatchesPerSecond}.`,
    );
  }
  if (!Number.isInteger(r.maxConcurrentDispatches) || r.maxConcurrentDispatches < 0 || r.maxConcurrentDispatches > LIMITS.maxConcurrentDispatches) {
    throw invalidArgument(
      `rate_limits.max_concurrent_dispatches must be an integer between 1 and ${LIMITS.maxConcurrentDispatches}, got ${r.maxConcurrentDispatches}.`,
    );
  }
  if (!Number.isInteger(c.maxAttempts) || c.maxAttempts < -1) {
    throw invalidArgument(`retry_config.max_attempts must be -1 (unlimited) or a positive integer, got ${c.maxAttempts}.`);
  }
  for (const [field, ms] of [
    ['min_backoff', c.minBackoffMs],
    ['max_backoff', c.maxBackoffMs],
    ['max_retry_duration', c.maxRetryDurationMs],
  ] as const) {
    if (!Number.isFinite(ms) || ms < 0) throw invalidArgument(`retry_config.${field} must be a non-negative duration, got ${ms / 1000}s.`);
  }
  if (c.minBackoffMs > c.maxBackoffMs) {
    throw invalidArgument(
      `retry_config.min_backoff (${c.minBackoffMs / 1000}s) must not be greater than retry_config.max_backoff (${c.maxBackoffMs / 1000}s).`,
    );
  }
  if (!Number.isInteger(c.maxDoublings) || c.maxDoublings < 0) {
    throw invalidArgument(`retry_config.max_doublings must be a non-negative integer, got ${c.maxDoublings}.`);
  }
  const ratio = q.stackdriverSamplingRatio;
  if (ratio !== undefined && (!Number.isFinite(ratio) || ratio < 0 || ratio > 1)) {
    throw invalidArgument(`stackdriver_logging_config.sampling_ratio must be between 0 and 1, got ${ratio}.`);
  }
}

/** A new queue's record from its input: production defaults for every unset field, then validation. */
export function newQueueRecord(name: string, input: QueueInput): QueueRecord {
  const record: QueueRecord = {
    name,
    rateLimits: rateFrom(input.rateLimits, DEFAULT_RATE),
    retryConfig: retryFrom(input.retryConfig, DEFAULT_RETRY),
    state: input.state ?? 'RUNNING',
  };
  if (input.stackdriverSamplingRatio !== undefined) record.stackdriverSamplingRatio = input.stackdriverSamplingRatio;
  const override = routingOrUndefined(input.appEngineRoutingOverride);
  if (override !== undefined) record.appEngineRoutingOverride = override;
  if (input.appEngineHost !== undefined) record.appEngineHost = input.appEngineHost;
  validateQueueSettings(record);
  return record;
}

/** A routing with at least one field set, else undefined (an empty override is no override). */
function routingOrUndefined(r: AppEngineRouting | undefined): AppEngineRouting | undefined {
  if (r === undefined) return undefined;
  const out: AppEngineRouting = {};
  for (const k of ['service', 'version', 'instance'] as const) if (r[k] !== undefined && r[k] !== '') out[k] = r[k];
  return Object.keys(out).length > 0 ? out : undefined;
}

function setOverride(next: QueueRecord, r: AppEngineRouting | undefined): void {
  const override = routingOrUndefined(r);
  if (override === undefined) delete next.appEngineRoutingOverride;
  else next.appEngineRoutingOverride = override;
}

/**
 * The queue after an UpdateQueue: with a mask, only the listed fields change (a listed field absent
 * from the input resets to its default); without one, every field present in the input changes.
 * `state` is output only, as in production.
 */
export function updatedQueueRecord(current: QueueRecord, input: QueueInput, mask: string[] | undefined): QueueRecord {
  const next: QueueRecord = {
    ...current,
    rateLimits: { ...current.rateLimits },
    retryConfig: { ...current.retryConfig },
  };
  const paths = mask?.map(normaliseMaskPath).filter((p) => p !== '');
  if (paths !== undefined && paths.length > 0) {
    for (const path of paths) {
      if (!UPDATABLE.has(path)) {
        throw invalidArgument(
          path === 'state' || path === 'name' || path === 'purgeTime'
            ? `Field '${path}' cannot be changed with UpdateQueue (use PauseQueue/ResumeQueue for state).`
            : `Unknown or unsupported field in update_mask: '${path}'.`,
        );
      }
      applyPath(next, input, path);
    }
  } else {
    if (input.rateLimits) next.rateLimits = rateFrom(input.rateLimits, current.rateLimits);
    if (input.retryConfig) next.retryConfig = retryFrom(input.retryConfig, current.retryConfig);
    if (input.stackdriverSamplingRatio !== undefined) next.stackdriverSamplingRatio = input.stackdriverSamplingRatio;
    if (input.appEngineRoutingOverride !== undefined) setOverride(next, input.appEngineRoutingOverride);
  }
  next.rateLimits.maxBurstSize = deriveBurstSize(next.rateLimits.maxDispatchesPerSecond);
  validateQueueSettings(next);
  return next;
}

function applyPath(next: QueueRecord, input: QueueInput, path: string): void {
  const r = input.rateLimits;
  const c = input.retryConfig;
  switch (path) {
    case 'rateLimits':
      next.rateLimits = rateFrom(r, DEFAULT_RATE);
      return;
    case 'rateLimits.maxDispatchesPerSecond':
      next.rateLimits.maxDispatchesPerSecond = r?.maxDispatchesPerSecond || DEFAULT_RATE.maxDispatchesPerSecond;
      return;
    case 'rateLimits.maxConcurrentDispatches':
      next.rateLimits.maxConcurrentDispatches = r?.maxConcurrentDispatches || DEFAULT_RATE.maxConcurrentDispatches;
      return;
    case 'rateLimits.maxBurstSize':
      return; // output only: recomputed from the rate
    case 'retryConfig':
      next.retryConfig = retryFrom(c, DEFAULT_RETRY);
      return;
    case 'retryConfig.maxAttempts':
      next.retryConfig.maxAttempts = c?.maxAttempts || DEFAULT_RETRY.maxAttempts;
      return;
    case 'retryConfig.maxRetryDuration':
      next.retryConfig.maxRetryDurationMs = c?.maxRetryDurationMs ?? DEFAULT_RETRY.maxRetryDurationMs;
      return;
    case 'retryConfig.minBackoff':
      next.retryConfig.minBackoffMs = c?.minBackoffMs || DEFAULT_RETRY.minBackoffMs;
      return;
    case 'retryConfig.maxBackoff':
      next.retryConfig.maxBackoffMs = c?.maxBackoffMs || DEFAULT_RETRY.maxBackoffMs;
      return;
    case 'retryConfig.maxDoublings':
      next.retryConfig.maxDoublings = c?.maxDoublings ?? DEFAULT_RETRY.maxDoublings;
      return;
    case 'stackdriverLoggingConfig':
    case 'stackdriverLoggingConfig.samplingRatio':
      if (input.stackdriverSamplingRatio === undefined) delete next.stackdriverSamplingRatio;
      else next.stackdriverSamplingRatio = input.stackdriverSamplingRatio;
      return;
    case 'appEngineRoutingOverride':
      setOverride(next, input.appEngineRoutingOverride);
      return;
    default:
      return;
  }
}
