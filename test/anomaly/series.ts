// Synthetic RSS and CPU series for the detectors' unit tests: the shapes of
// the fault injectors in test/fixtures, sampled as the daemon would.

/** Deterministic noise in [-amplitude, amplitude] (a linear congruential generator), so failures reproduce. */
export function noise(seed: number, amplitude: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return (state / 0xffffffff - 0.5) * 2 * amplitude;
  };
}

/** A memory curve, MB as a function of seconds since the start. */
export type Curve = (t: number) => number;

/** Flat at base, then growing rateMbPerSec from onsetSec on. */
export const leak = (base: number, onsetSec: number, rateMbPerSec: number): Curve => (t) => base + Math.max(0, t - onsetSec) * rateMbPerSec;

/** A cache warming up: rateMbPerSec for growSec, then easing into a plateau over easeSec. */
export const levelOff =
  (base: number, growSec: number, rateMbPerSec: number, easeSec: number): Curve =>
  (t) =>
    t < growSec ? base + rateMbPerSec * t : base + rateMbPerSec * growSec + rateMbPerSec * easeSec * (1 - Math.exp(-(t - growSec) / easeSec));

/** A garbage-collected heap: grows rateMbPerSec for rampSec, drops back, again and again. */
export const sawTooth = (base: number, rampSec: number, rateMbPerSec: number): Curve => (t) => base + rateMbPerSec * (t % (rampSec + 1) > rampSec ? 0 : t % (rampSec + 1));

/** Sample times from 0 to untilSec every stepSec. */
export function times(untilSec: number, stepSec: number): number[] {
  const out: number[] = [];
  for (let i = 0; i * stepSec <= untilSec + 1e-9; i++) out.push(i * stepSec);
  return out;
}
