// The rate limit shared by the mailer and the desktop notifier: per key (a
// process and a kind of alert), at most one alert per window. What arrives
// inside a window is held back and handed out as one digest when the window
// ends; a digest opens a new window, so a steady stream costs one message per
// window, never more.
import type { Clock, Timer } from "../engine/clock.js";

/** Items kept per digest for listing; beyond that they are only counted. */
export const DIGEST_MAX_LISTED = 20;

/** What was held back during one window for one key. */
export interface Digest<T> {
  key: string;
  /** How many were held back (may exceed items.length). */
  count: number;
  /** The first DIGEST_MAX_LISTED of them, oldest first. */
  items: T[];
  windowStartMs: number;
  windowEndMs: number;
}

interface Window<T> {
  startMs: number;
  endMs: number;
  timer: Timer;
  held: T[];
  count: number;
}

export class AlertThrottle<T> {
  private readonly windows = new Map<string, Window<T>>();
  /** Items held back since the start (each is summarised in a digest). */
  suppressed = 0;

  /**
   * @param windowMs the rate limit window; 0 lets everything through.
   * @param onDigest called when a window ends with something held back.
   */
  constructor(
    private readonly clock: Clock,
    private windowMs: number,
    private readonly onDigest: (digest: Digest<T>) => void,
  ) {}

  // Whether an item may go out now; false means it is held for the digest.
  offer(key: string, item: T): boolean {
    if (this.windowMs <= 0) return true;
    const window = this.windows.get(key);
    if (window === undefined) {
      this.open(key);
      return true;
    }
    window.count++;
    this.suppressed++;
    if (window.held.length < DIGEST_MAX_LISTED) window.held.push(item);
    return false;
  }

  // A new window length, for windows opened from now on (0: no limit; held items go out at their window's end).
  setWindow(windowMs: number): void {
    this.windowMs = windowMs;
  }

  /** Keys whose window is open now. */
  get openWindows(): number {
    return this.windows.size;
  }

  // Forget every window without digests (the daemon is stopping).
  stop(): void {
    for (const window of this.windows.values()) window.timer.cancel();
    this.windows.clear();
  }

  // Start a window for key at the current time.
  private open(key: string): void {
    const startMs = this.clock.now();
    const window: Window<T> = {
      startMs,
      endMs: startMs + this.windowMs,
      held: [],
      count: 0,
      timer: this.clock.setTimeout(() => this.close(key, window), this.windowMs),
    };
    this.windows.set(key, window);
  }

  // A window ended: hand out its digest (which opens the next window), or forget the key.
  private close(key: string, window: Window<T>): void {
    if (this.windows.get(key) !== window) return;
    this.windows.delete(key);
    if (window.count === 0) return;
    if (this.windowMs > 0) this.open(key);
    try {
      this.onDigest({ key, count: window.count, items: window.held, windowStartMs: window.startMs, windowEndMs: this.clock.now() });
    } catch (error) {
      console.error("selfheal: sending a digest of held-back alerts failed:", error);
    }
  }
}
