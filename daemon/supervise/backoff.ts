// The pause before a restart: the first restart is immediate, later ones wait
// longer and longer (doubling), up to a cap, so a crash loop does not spin.

export const BACKOFF_FIRST_DELAY_MS = 100;
export const BACKOFF_MAX_DELAY_MS = 5_000;
/** A run at least this long counts as healthy: the next crash restarts at once again. */
export const BACKOFF_RESET_AFTER_MS = 10_000;

// Delay before the next restart, given how many restarts came just before it
// without a healthy run in between (0 for the first).
export function backoffDelayMs(consecutiveRestarts: number): number {
  if (consecutiveRestarts <= 0) return 0;
  const delay = BACKOFF_FIRST_DELAY_MS * 2 ** (consecutiveRestarts - 1);
  return Math.min(delay, BACKOFF_MAX_DELAY_MS);
}
