// The Anomalies view: most recent first, with the time, the process, the kind, what selfheal
// did, and the detector's detail; under a watched program's memory leak, its memory curve with
// the line the leak was judged by.
import { GLib, St, verticalBox } from "../../gi/ext.js";
import type { AnomalyRow } from "../../model/anomalies.js";
import { anomalyKeyNames, anomalyRows } from "../../model/anomalies.js";
import type { LeakFit } from "../../model/trend.js";
import { leakWindowStartUsec } from "../../model/trend.js";
import { emptyText } from "../../model/views.js";
import { LeakCurve } from "../sparkline.js";
import type { KeyedList, RowWidget } from "../widgets.js";
import { cell, columnTable, setText } from "../widgets.js";
import type { View, ViewContext } from "./view.js";
import { fetchWhileLive } from "./view.js";

export class AnomaliesView implements View {
  readonly id = "anomalies" as const;
  readonly header: St.Widget;
  readonly content: St.BoxLayout;
  readonly footer = null;
  #context: ViewContext;
  #list: KeyedList<AnomalyRow>;

  constructor(context: ViewContext) {
    this.#context = context;
    const { t } = context;
    const table = columnTable<AnomalyRow>(
      "selfheal-anomaly-list",
      emptyText("anomalies", t),
      [
        [t.gettext("When"), "when"],
        [t.gettext("Program"), "name"],
        [t.gettext("PID"), "pid"],
        [t.gettext("Kind"), "kind"],
        [t.gettext("Action taken"), "action"],
      ],
      (row) => this.#createRow(row),
    );
    this.header = table.header;
    this.#list = table.list;
    this.content = table.list.actor;
  }

  async refresh(): Promise<void> {
    const records = await fetchWhileLive(this.#context, (client) => client.listAnomalies());
    if (!records) return;
    this.#list.render(anomalyRows(records, GLib.get_real_time(), this.#context.t));
  }

  mark(name: string | null): St.Widget | null {
    return this.#list.mark(name === null || name === "" ? null : (key) => anomalyKeyNames(key, name));
  }

  tick(): void {}

  #createRow(row: AnomalyRow): RowWidget<AnomalyRow> {
    const actor = verticalBox({ style_class: "selfheal-row selfheal-anomaly-row", x_expand: true });
    const line = new St.BoxLayout();
    const when = cell("", "selfheal-col-when");
    const name = cell("", "selfheal-col-name selfheal-name");
    const pid = cell("", "selfheal-col-pid");
    const kind = cell("", "selfheal-col-kind");
    const action = cell("", "selfheal-col-action");
    for (const child of [when, name, pid, kind, action]) line.add_child(child);
    // The detector's detail goes on a second line, under the program's name.
    const detailLine = new St.BoxLayout();
    const detail = cell("", "selfheal-detail popup-inactive-menu-item");
    detail.clutter_text.line_wrap = true;
    detailLine.add_child(cell("", "selfheal-col-when"));
    detailLine.add_child(detail);
    actor.add_child(line);
    actor.add_child(detailLine);
    if (row.fit) actor.add_child(this.#leakCurveLine(row.process, row.fit));
    const update = (next: AnomalyRow): void => {
      setText(when, next.whenText);
      setText(name, next.process);
      setText(pid, next.pidText);
      setText(kind, next.kindText);
      setText(action, next.actionText);
      setText(detail, next.detail);
      detailLine.visible = next.detail !== "";
    };
    update(row);
    return { actor, update };
  }

  // The leak's curve, under its detail: the samples are fetched once (they are history), and the
  // line stays hidden when there are none (a process that is no policy, or a leak older than
  // the daemon's 10 minutes of history).
  #leakCurveLine(name: string, fit: LeakFit): St.BoxLayout {
    const curveLine = new St.BoxLayout({ visible: false });
    const curve = new LeakCurve("selfheal-leak-curve");
    curveLine.add_child(cell("", "selfheal-col-when"));
    curveLine.add_child(curve.actor);
    const client = this.#context.client();
    client
      ?.getHistory(name, leakWindowStartUsec(fit))
      .then((samples) => {
        if (!this.#context.live() || samples.length === 0) return;
        curve.set(samples, fit);
        curveLine.visible = true;
      })
      .catch(() => undefined);
    return curveLine;
  }

  destroy(): void {
    this.header.destroy();
    this.content.destroy();
  }
}
