// Time comes in through this interface so that engine decisions (backoff,
// cooldown windows, "for N samples") are unit tested with a fake clock.

export interface Timer {
  cancel(): void;
}

export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
  /** Runs fn once after ms milliseconds. */
  setTimeout(fn: () => void, ms: number): Timer;
  /** Runs fn every ms milliseconds until cancelled: one timer for a steady beat, not a new one per beat. */
  setInterval(fn: () => void, ms: number): Timer;
}

/** The real clock. */
export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout(fn, ms) {
    const handle = setTimeout(fn, ms);
    return { cancel: () => clearTimeout(handle) };
  },
  setInterval(fn, ms) {
    const handle = setInterval(fn, ms);
    return { cancel: () => clearInterval(handle) };
  },
};
