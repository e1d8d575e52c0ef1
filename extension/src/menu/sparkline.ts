// Small memory curves (St.DrawingArea + Cairo), in the theme's foreground colour. The Processes
// row's sparkline: the row's samples, with the memory limit as a fainter level. The Anomalies
// row's leak curve: the samples around the span a leak was judged on, with the line fitted to
// them drawn over them. Each repaints only when given new samples (while the menu is open),
// never on a timer.
import { St } from "../gi/ext.js";
import type { LeakFit, TrendSample } from "../model/trend.js";
import { leakCurveGeometry, sparklineGeometry } from "../model/trend.js";

const LINE_WIDTH = 1.2;
const LIMIT_ALPHA = 0.45;
/** Under a leak's fitted line, the samples are drawn fainter so that the line stands out. */
const CURVE_ALPHA = 0.6;
const FIT_LINE_WIDTH = 2;

type Runs = ReadonlyArray<ReadonlyArray<readonly [number, number]>>;
type Cairo = ReturnType<St.DrawingArea["get_context"]>;

/** The drawing area with what its last paint drew: the end-to-end test reads it through the actor. */
type CurveActor = St.DrawingArea & { selfheal_points?: number };

// A curve that paints itself from the drawing area's size and the theme's colour.
abstract class Curve {
  readonly actor: CurveActor;

  constructor(styleClass: string) {
    this.actor = new St.DrawingArea({ style_class: styleClass });
    this.actor.connect("repaint", () => this.#paint());
  }

  protected abstract draw(cr: Cairo, width: number, height: number, rgb: [number, number, number]): void;

  #paint(): void {
    const cr = this.actor.get_context();
    try {
      const [width, height] = this.actor.get_surface_size();
      const color = this.actor.get_theme_node().get_foreground_color();
      cr.setLineWidth(LINE_WIDTH);
      this.draw(cr, width, Math.max(1, height - LINE_WIDTH), [color.red / 255, color.green / 255, color.blue / 255]);
    } finally {
      cr.$dispose();
    }
  }
}

export class Sparkline extends Curve {
  #samples: readonly TrendSample[] = [];
  #limitBytes = 0;
  #nowUsec = 0;

  // New samples or a new limit: paint again.
  set(samples: readonly TrendSample[], limitBytes: number, nowUsec: number): void {
    this.#samples = samples;
    this.#limitBytes = limitBytes;
    this.#nowUsec = nowUsec;
    this.actor.queue_repaint();
  }

  protected draw(cr: Cairo, width: number, height: number, [r, g, b]: [number, number, number]): void {
    const geometry = sparklineGeometry(this.#samples, { width, height, nowUsec: this.#nowUsec, limitBytes: this.#limitBytes });
    this.actor.selfheal_points = geometry.points;
    if (geometry.limitY !== null) {
      cr.setSourceRGBA(r, g, b, LIMIT_ALPHA);
      cr.setDash([2, 2], 0);
      strokeRuns(cr, [
        [
          [0, geometry.limitY],
          [width, geometry.limitY],
        ],
      ]);
      cr.setDash([], 0);
    }
    cr.setSourceRGBA(r, g, b, 1);
    strokeRuns(cr, geometry.segments);
  }
}

export class LeakCurve extends Curve {
  #samples: readonly TrendSample[] = [];
  #fit: LeakFit | null = null;

  set(samples: readonly TrendSample[], fit: LeakFit): void {
    this.#samples = samples;
    this.#fit = fit;
    this.actor.queue_repaint();
  }

  protected draw(cr: Cairo, width: number, height: number, [r, g, b]: [number, number, number]): void {
    if (this.#fit === null) return;
    const geometry = leakCurveGeometry(this.#samples, this.#fit, { width, height });
    this.actor.selfheal_points = geometry.points;
    cr.setSourceRGBA(r, g, b, CURVE_ALPHA);
    strokeRuns(cr, geometry.segments);
    cr.setSourceRGBA(r, g, b, 1);
    cr.setLineWidth(FIT_LINE_WIDTH);
    strokeRuns(cr, [geometry.fit]);
  }
}

// Strokes each run of points as one line, half a line width down so that the top is not cut off;
// a lone point is a short dash, so that it shows.
function strokeRuns(cr: Cairo, runs: Runs): void {
  const down = LINE_WIDTH / 2;
  for (const run of runs) {
    const [first, ...rest] = run;
    if (!first) continue;
    cr.moveTo(first[0], first[1] + down);
    if (rest.length === 0) cr.lineTo(first[0] + 1, first[1] + down);
    for (const [x, y] of rest) cr.lineTo(x, y + down);
    cr.stroke();
  }
}
