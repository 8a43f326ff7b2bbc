/**
 * Task names that were in use recently. Cloud Tasks refuses to reuse the name of a deleted or
 * finished task for a while (about an hour after deletion); this remembers each name until
 * `windowMs` after it was released. Entries expire in insertion order (the window is constant),
 * so pruning is amortised O(1) per insert.
 */
export class RememberedNames {
  private readonly until = new Map<string, number>();

  constructor(private readonly windowMs: number) {}

  /** Remembers `name` as released at `now`. */
  remember(name: string, now: number): void {
    if (this.windowMs <= 0) return;
    this.until.delete(name); // re-insert at the end to keep expiry order
    this.until.set(name, now + this.windowMs);
    this.prune(now);
  }

  /** True while `name` is still reserved. */
  has(name: string, now: number): boolean {
    const t = this.until.get(name);
    if (t === undefined) return false;
    if (t <= now) {
      this.until.delete(name);
      return false;
    }
    return true;
  }

  /** Forgets every name starting with `prefix` (a queue's names on purge or deletion). */
  forgetPrefix(prefix: string): void {
    for (const name of this.until.keys()) if (name.startsWith(prefix)) this.until.delete(name);
  }

  /** Number of names remembered (expired ones may still be counted until pruned). */
  get size(): number {
    return this.until.size;
  }

  private prune(now: number): void {
    for (const [name, t] of this.until) {
      if (t > now) break;
      this.until.delete(name);
    }
  }
}
