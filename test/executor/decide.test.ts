import { describe, expect, it } from 'vitest';
import { decide, RETRY_STATUS, type Action, type DecideOutcome, type TierPolicy } from '../../src/executor/decide.js';

const err = { type: 'Error', message: 'boom' };
const OUTCOMES: Record<string, DecideOutcome> = {
  success: { kind: 'success' },
  successResult: { kind: 'success', result: { ok: 1 } },
  retryable: { kind: 'retryable', error: err },
  permanent: { kind: 'permanent', error: err },
  ignore: { kind: 'ignore', reason: 'dup' },
  undecodable: { kind: 'undecodable', error: { type: 'UndecodableBody', message: 'bad' } },
};

const full: TierPolicy = { maxAttempts: 5, hasNext: true, hasDeadLetter: true, hasNotifier: true, hasDefaultWebhook: false };
const last: TierPolicy = { ...full, hasNext: false };

type Row = [name: string, outcome: keyof typeof OUTCOMES, attempt: number, webhook: boolean, policy: TierPolicy, expected: Action];

const TABLE: Row[] = [
  // success
  ['success with a webhook notifies success', 'success', 1, true, full, { kind: 'notify', outcome: 'succeeded' }],
  ['success carries the result into the notification', 'successResult', 2, true, full, { kind: 'notify', outcome: 'succeeded', result: { ok: 1 } }],
  ['success on the last attempt still notifies success', 'success', 5, true, full, { kind: 'notify', outcome: 'succeeded' }],
  ['success without any webhook just acks', 'success', 1, false, full, { kind: 'ack', why: 'succeeded' }],
  ['success uses NOTIFY_URL when the job names no webhook', 'success', 1, false, { ...full, hasDefaultWebhook: true }, { kind: 'notify', outcome: 'succeeded' }],
  ['success with a webhook but no notifier queue acks and says why', 'success', 1, true, { ...full, hasNotifier: false }, { kind: 'ack', why: 'succeeded', unnotified: 'NOTIFIER_QUEUE is not configured' }],
  // retryable
  ['retryable on attempt 1 of 5 retries', 'retryable', 1, true, full, { kind: 'retry', status: RETRY_STATUS, error: err }],
  ['retryable on attempt 4 of 5 retries', 'retryable', 4, true, full, { kind: 'retry', status: RETRY_STATUS, error: err }],
  ['retryable on the last attempt forwards to the next tier', 'retryable', 5, true, full, { kind: 'forward', error: err }],
  ['retryable on the last attempt forwards even without a webhook', 'retryable', 5, false, full, { kind: 'forward', error: err }],
  ['retryable on the last attempt of the last tier notifies failure', 'retryable', 5, true, last, { kind: 'notify', outcome: 'failed', error: err }],
  ['retryable on the last attempt of the last tier without a webhook acks and says why', 'retryable', 5, false, last, { kind: 'ack', why: 'failed-unnotified', unnotified: 'the job names no webhook and NOTIFY_URL is unset' }],
  ['retryable on the last attempt of the last tier without a notifier acks and says why', 'retryable', 5, true, { ...last, hasNotifier: false }, { kind: 'ack', why: 'failed-unnotified', unnotified: 'NOTIFIER_QUEUE is not configured' }],
  ['retryable with a budget of 1 hands off at once', 'retryable', 1, true, { ...full, maxAttempts: 1 }, { kind: 'forward', error: err }],
  // permanent
  ['permanent notifies failure at once, budget left', 'permanent', 1, true, full, { kind: 'notify', outcome: 'failed', error: err }],
  ['permanent never forwards, even with a next tier', 'permanent', 5, true, full, { kind: 'notify', outcome: 'failed', error: err }],
  ['permanent uses NOTIFY_URL', 'permanent', 1, false, { ...full, hasDefaultWebhook: true }, { kind: 'notify', outcome: 'failed', error: err }],
  ['permanent without any webhook acks and says why', 'permanent', 1, false, full, { kind: 'ack', why: 'failed-unnotified', unnotified: 'the job names no webhook and NOTIFY_URL is unset' }],
  // ignore
  ['ignore acks with no notice', 'ignore', 1, true, full, { kind: 'ack', why: 'ignored' }],
  ['ignore on the last attempt acks with no notice', 'ignore', 5, true, last, { kind: 'ack', why: 'ignored' }],
  // past the budget (Cloud Tasks counted answers such as 401 as executions): the work ran, this is its last attempt
  ['retryable past the budget forwards, as on the last attempt', 'retryable', 6, true, full, { kind: 'forward', error: err }],
  ['retryable far past the budget on the last tier notifies the real failure', 'retryable', 60, true, last, { kind: 'notify', outcome: 'failed', error: err }],
  ['success past the budget notifies success, never a failure', 'success', 7, true, full, { kind: 'notify', outcome: 'succeeded' }],
  // undecodable
  ['undecodable with a dead-letter queue dead-letters', 'undecodable', 1, false, full, { kind: 'dead-letter', error: { type: 'UndecodableBody', message: 'bad' } }],
  ['undecodable without a dead-letter queue is rejected with 400', 'undecodable', 1, false, { ...full, hasDeadLetter: false }, { kind: 'reject', status: 400, error: { type: 'UndecodableBody', message: 'bad' } }],
  ['undecodable past the budget is still dead-lettered', 'undecodable', 9, false, full, { kind: 'dead-letter', error: { type: 'UndecodableBody', message: 'bad' } }],
];

describe('decide', () => {
  it.each(TABLE)('%s', (_name, outcome, attempt, jobHasWebhook, policy, expected) => {
    expect(decide({ outcome: OUTCOMES[outcome]!, attempt, jobHasWebhook, policy })).toEqual(expected);
  });

  // Every combination of inputs, checked against the rules that must always hold.
  const bools = [false, true];
  const combos: { outcome: DecideOutcome; attempt: number; jobHasWebhook: boolean; policy: TierPolicy }[] = [];
  for (const outcome of Object.values(OUTCOMES))
    for (const attempt of [1, 2, 3, 4, 9])
      for (const jobHasWebhook of bools)
        for (const hasNext of bools)
          for (const hasDeadLetter of bools)
            for (const hasNotifier of bools)
              for (const hasDefaultWebhook of bools)
                combos.push({ outcome, attempt, jobHasWebhook, policy: { maxAttempts: 3, hasNext, hasDeadLetter, hasNotifier, hasDefaultWebhook } });

  it(`holds the invariants over all ${combos.length} combinations`, () => {
    for (const input of combos) {
      const action = decide(input);
      const { outcome, attempt, policy } = input;
      const canNotify = policy.hasNotifier && (input.jobHasWebhook || policy.hasDefaultWebhook);
      const ctx = JSON.stringify({ input, action });
      // Retry only for a retryable failure with budget left, and never with 429 or 5xx.
      expect(action.kind === 'retry', ctx).toBe(outcome.kind === 'retryable' && attempt < policy.maxAttempts);
      if (action.kind === 'retry') expect(action.status !== 429 && action.status >= 400 && action.status < 500, ctx).toBe(true);
      // Forward only with a next tier, only when the budget is spent on a retryable failure.
      if (action.kind === 'forward') {
        expect(policy.hasNext, ctx).toBe(true);
        expect(outcome.kind === 'retryable' && attempt >= policy.maxAttempts, ctx).toBe(true);
      }
      // Only undecodable bodies reach the dead-letter queue or a 400.
      expect(action.kind === 'dead-letter' || action.kind === 'reject', ctx).toBe(outcome.kind === 'undecodable');
      if (action.kind === 'reject') expect(policy.hasDeadLetter, ctx).toBe(false);
      // A notification is only attempted when it can be delivered.
      if (action.kind === 'notify') expect(canNotify, ctx).toBe(true);
      // A failure that ends here is either notified or acked with the reason it could not be.
      const endsInFailure =
        outcome.kind === 'permanent' || (outcome.kind === 'retryable' && attempt >= policy.maxAttempts && !policy.hasNext);
      if (endsInFailure) {
        if (canNotify) expect(action, ctx).toMatchObject({ kind: 'notify', outcome: 'failed' });
        else expect(action, ctx).toMatchObject({ kind: 'ack', why: 'failed-unnotified', unnotified: expect.any(String) });
      }
      // Success is never retried or forwarded, and never reported as a failure.
      if (outcome.kind === 'success') expect(['ack', 'notify'], ctx).toContain(action.kind);
      if (outcome.kind === 'success' && action.kind === 'notify') expect(action.outcome, ctx).toBe('succeeded');
      // Only a failure of the work itself is reported as failed, with the work's own error.
      if (action.kind === 'notify' && action.outcome === 'failed') {
        expect(['permanent', 'retryable'], ctx).toContain(outcome.kind);
        expect(action.error, ctx).toBe((outcome as { error: unknown }).error);
      }
    }
  });
});
