// Least-squares fits over a run of (time, value) samples: the straight line
// with its goodness of fit, and the slope of a parabola at the run's end (to
// tell growth that goes on from growth that is levelling off). Pure functions.

export interface LineFit {
  /** Value units per second. */
  slope: number;
  /** Coefficient of determination, 0..1 (1 for a perfect line; 0 when the values do not vary). */
  r2: number;
  /** The samples' mean time and mean value: the line passes through this point. */
  meanTime: number;
  meanValue: number;
}

/** Fewer distinct sample times than this and a parabola is not determined. */
const MIN_SAMPLES_FOR_PARABOLA = 3;
/** Determinants below this (relative to the scale of the sums) count as singular. */
const SINGULAR_EPSILON = 1e-12;

// The least-squares line through samples from..to-1 of times (seconds) and values.
export function fitLine(times: ArrayLike<number>, values: ArrayLike<number>, from: number, to: number): LineFit {
  const n = to - from;
  if (n < 2) return { slope: 0, r2: 0, meanTime: n === 1 ? times[from]! : 0, meanValue: n === 1 ? values[from]! : 0 };
  let meanT = 0;
  let meanY = 0;
  for (let i = from; i < to; i++) {
    meanT += times[i]!;
    meanY += values[i]!;
  }
  meanT /= n;
  meanY /= n;
  let stt = 0;
  let sty = 0;
  let syy = 0;
  for (let i = from; i < to; i++) {
    const dt = times[i]! - meanT;
    const dy = values[i]! - meanY;
    stt += dt * dt;
    sty += dt * dy;
    syy += dy * dy;
  }
  if (stt === 0) return { slope: 0, r2: 0, meanTime: meanT, meanValue: meanY };
  const slope = sty / stt;
  const r2 = syy === 0 ? 0 : (sty * sty) / (stt * syy);
  return { slope, r2, meanTime: meanT, meanValue: meanY };
}

// The slope, at the last sample's time, of the least-squares parabola through
// samples from..to-1; null when too few samples determine one.
export function endSlopeOfParabola(times: ArrayLike<number>, values: ArrayLike<number>, from: number, to: number): number | null {
  const n = to - from;
  if (n < MIN_SAMPLES_FOR_PARABOLA) return null;
  let meanT = 0;
  for (let i = from; i < to; i++) meanT += times[i]!;
  meanT /= n;
  // Centred moments of u = t - meanT: s1 is 0 by construction.
  let s2 = 0;
  let s3 = 0;
  let s4 = 0;
  let sy = 0;
  let suy = 0;
  let su2y = 0;
  for (let i = from; i < to; i++) {
    const u = times[i]! - meanT;
    const u2 = u * u;
    const y = values[i]!;
    s2 += u2;
    s3 += u2 * u;
    s4 += u2 * u2;
    sy += y;
    suy += u * y;
    su2y += u2 * y;
  }
  // Normal equations for y = a + b u + c u² with s1 = 0:
  //   [n  0  s2] [a]   [sy  ]
  //   [0  s2 s3] [b] = [suy ]
  //   [s2 s3 s4] [c]   [su2y]
  const det = n * (s2 * s4 - s3 * s3) - s2 * (s2 * s2);
  if (Math.abs(det) <= SINGULAR_EPSILON * Math.max(1, n * s2 * s4)) return null;
  // Cramer's rule for b and c (a is not needed).
  const b = (n * (suy * s4 - s3 * su2y) - s2 * s2 * suy + sy * s2 * s3) / det;
  const c = (n * (s2 * su2y - s3 * suy) - sy * s2 * s2) / det;
  const uEnd = times[to - 1]! - meanT;
  return b + 2 * c * uEnd;
}
