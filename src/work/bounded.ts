/**
 * Byte collectors with a fixed ceiling, so a worker that prints or answers gigabytes costs the
 * executor at most the cap in memory.
 */

/** Keeps the first `cap` bytes written to it and counts the rest. */
export class HeadCollector {
  private readonly chunks: Buffer[] = [];
  private kept = 0;
  /** Every byte offered, kept or not. */
  total = 0;

  constructor(private readonly cap: number) {}

  /** Offers a chunk; returns false once the cap is reached (the caller may stop reading). */
  push(chunk: Uint8Array): boolean {
    this.total += chunk.length;
    const room = this.cap - this.kept;
    if (room > 0) {
      const part = chunk.length <= room ? chunk : chunk.subarray(0, room);
      this.chunks.push(Buffer.from(part.buffer, part.byteOffset, part.length));
      this.kept += part.length;
    }
    return this.total <= this.cap;
  }

  /** True when more bytes were offered than kept. */
  get truncated(): boolean {
    return this.total > this.cap;
  }

  /** The kept bytes. */
  bytes(): Buffer {
    return this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks, this.kept);
  }
}

/** Keeps the last `cap` bytes written to it: the end of stderr is where the error usually is. */
export class TailCollector {
  private chunks: Buffer[] = [];
  private kept = 0;
  /** Every byte offered. */
  total = 0;

  constructor(private readonly cap: number) {}

  /** Offers a chunk. */
  push(chunk: Uint8Array): void {
    this.total += chunk.length;
    const buf = chunk.length > this.cap ? chunk.subarray(chunk.length - this.cap) : chunk;
    this.chunks.push(Buffer.from(buf.buffer, buf.byteOffset, buf.length));
    this.kept += buf.length;
    // Drop whole chunks from the front while the rest still covers the cap; trim the remainder on read.
    while (this.chunks.length > 1 && this.kept - this.chunks[0]!.length >= this.cap) {
      this.kept -= this.chunks.shift()!.length;
    }
  }

  /** True when earlier bytes were dropped. */
  get truncated(): boolean {
    return this.total > this.cap;
  }

  /** The last `cap` bytes as text, starting at a character boundary. */
  text(): string {
    const all = Buffer.concat(this.chunks, this.kept);
    let start = Math.max(0, all.length - this.cap);
    while (start < all.length && ((all[start] ?? 0) & 0xc0) === 0x80) start++;
    return all.subarray(start).toString('utf8');
  }
}
