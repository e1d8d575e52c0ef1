// A small memory sparkline (St.DrawingArea + Cairo): the row's samples as lines in the theme's
// foreground colour, the memory limit as a fainter level. It repaints only when given new
// samples (while the menu is open), never on a timer.
import { St } from "../gi/ext.js";
import type { TrendSample } from "../model/trend.js";
import { sparklineGeometry } from "../model/trend.js";

const LINE_WIDTH = 1.2;
const LIMIT_ALPHA = 0.45;

export class Sparkline {
  readonly actor: St.DrawingArea;
  #samples: readonly TrendSample[] = [];
  #limitBytes = 0;
  #nowUsec = 0;
  /** How many samples the last paint drew (read by the end-to-end test). */
  points = 0;

  constructor(styleClass: string) {
    this.actor = new St.DrawingArea({ style_class: styleClass });
    this.actor.connect("repaint", () => this.#paint());
  }

  // New samples or a new limit: paint again.
  set(samples: readonly TrendSample[], limitBytes: number, nowUsec: number): void {
    this.#samples = samples;
    this.#limitBytes = limitBytes;
    this.#nowUsec = nowUsec;
    this.actor.queue_repaint();
  }

  #paint(): void {
    const cr = this.actor.get_context();
    try {
      const [width, height] = this.actor.get_surface_size();
      const geometry = sparklineGeometry(this.#samples, { width, height: Math.max(1, height - LINE_WIDTH), nowUsec: this.#nowUsec, limitBytes: this.#limitBytes });
      this.points = geometry.points;
      const color = this.actor.get_theme_node().get_foreground_color();
      const [r, g, b] = [color.red / 255, color.green / 255, color.blue / 255];
      cr.setLineWidth(LINE_WIDTH);
      if (geometry.limitY !== null) {
        cr.setSourceRGBA(r, g, b, LIMIT_ALPHA);
        cr.setDash([2, 2], 0);
        cr.moveTo(0, geometry.limitY + LINE_WIDTH / 2);
        cr.lineTo(width, geometry.limitY + LINE_WIDTH / 2);
        cr.stroke();
        cr.setDash([], 0);
      }
      cr.setSourceRGBA(r, g, b, 1);
      for (const run of geometry.segments) {
        const [first, ...rest] = run;
        if (!first) continue;
        cr.moveTo(first[0], first[1] + LINE_WIDTH / 2);
        // A lone sample is a short dash, so that it shows.
        if (rest.length === 0) cr.lineTo(first[0] + 1, first[1] + LINE_WIDTH / 2);
        for (const [x, y] of rest) cr.lineTo(x, y + LINE_WIDTH / 2);
        cr.stroke();
      }
    } finally {
      cr.$dispose();
    }
  }
}
