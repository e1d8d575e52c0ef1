// A fixed ring of samples (time, CPU %, resident memory) for one program: typed arrays allocated
// once, the oldest sample overwritten by the newest, so that the history of every watched
// program costs a known, bounded amount of memory.

/** One sample: milliseconds since the epoch, CPU percent of one core, resident bytes. */
export type Sample = [timeMs: number, cpuPercent: number, rssBytes: number];

/** Bytes one sample takes: a Float64 time, a Float32 CPU figure, a Uint32 of KiB. */
export const BYTES_PER_SAMPLE = 8 + 4 + 4;
const KIB = 1024;
/** The largest resident size a sample holds (Uint32 KiB: 4 TiB); more is held as this. */
const MAX_KIB = 0xffff_ffff;

export class HistoryRing {
  private readonly times: Float64Array;
  private readonly cpu: Float32Array;
  private readonly rssKiB: Uint32Array;
  /** Index of the oldest sample, and how many are held. */
  private start = 0;
  private count = 0;

  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`a history ring holds at least one sample, got ${capacity}`);
    this.times = new Float64Array(capacity);
    this.cpu = new Float32Array(capacity);
    this.rssKiB = new Uint32Array(capacity);
  }

  get size(): number {
    return this.count;
  }

  /** The bytes its samples take (the arrays, allocated once). */
  get byteLength(): number {
    return this.times.byteLength + this.cpu.byteLength + this.rssKiB.byteLength;
  }

  /** The time of the newest sample, or null. */
  get lastTimeMs(): number | null {
    return this.count === 0 ? null : this.times[(this.start + this.count - 1) % this.capacity]!;
  }

  // Adds the newest sample; when full, the oldest goes.
  push(timeMs: number, cpuPercent: number, rssBytes: number): void {
    const at = (this.start + this.count) % this.capacity;
    this.times[at] = timeMs;
    this.cpu[at] = Number.isFinite(cpuPercent) ? cpuPercent : 0;
    this.rssKiB[at] = Math.min(MAX_KIB, Math.max(0, Math.round(rssBytes / KIB)));
    if (this.count < this.capacity) this.count++;
    else this.start = (this.start + 1) % this.capacity;
  }

  // The samples taken at or after `sinceMs`, oldest first (resident bytes to the KiB).
  since(sinceMs: number): Sample[] {
    const out: Sample[] = [];
    for (let i = 0; i < this.count; i++) {
      const at = (this.start + i) % this.capacity;
      const time = this.times[at]!;
      if (time >= sinceMs) out.push([time, this.cpu[at]!, this.rssKiB[at]! * KIB]);
    }
    return out;
  }
}
