/**
 * The webhook's last notifications with their bodies, newest first: what the dashboard shows and
 * `GET /notifications` serves. Bounded, so a long-running stack keeps constant memory.
 */
import type { NotificationView } from '../emulator/index.js';
import type { DecodedNotification } from './notification.js';

/** One notification as received: what the emulator's dashboard shows of it. */
export type RecentNotification = NotificationView;

/** Notifications kept. */
export const RECENT_KEPT = 50;

/** The body of a notification as text for people. */
export function notificationText(body: Buffer, n: DecodedNotification): string {
  if (n.format !== 'proto-binary') {
    try {
      return JSON.stringify(JSON.parse(body.toString('utf8')), null, 2);
    } catch {
      return body.toString('utf8');
    }
  }
  // The binary message has exactly these fields (proto/work.proto); shown in its proto3 JSON form.
  return JSON.stringify({ ...(n.jobId !== undefined ? { context: { id: n.jobId } } : {}), ...(n.error !== undefined ? { error: n.error } : {}) }, null, 2);
}

/** What the webhook keeps of one decoded notification and its body. */
export function notificationView(body: Buffer, n: DecodedNotification, now = Date.now()): RecentNotification {
  return {
    receivedAt: now,
    ...(n.jobId !== undefined ? { jobId: n.jobId } : {}),
    outcome: n.outcome,
    format: n.format,
    ...(n.tier !== undefined ? { tier: n.tier } : {}),
    ...(n.attempts !== undefined ? { attempts: n.attempts } : {}),
    ...(n.error !== undefined ? { error: `${n.error.type}: ${n.error.message}` } : {}),
    body: notificationText(body, n),
  };
}

/** A ring of the last {@link RECENT_KEPT} notifications. */
export class RecentNotifications {
  private readonly items: RecentNotification[] = [];

  /** Keeps one notification as received. */
  add(view: RecentNotification): void {
    this.items.unshift(view);
    if (this.items.length > RECENT_KEPT) this.items.length = RECENT_KEPT;
  }

  /** Newest first. */
  list(): readonly RecentNotification[] {
    return this.items;
  }
}
