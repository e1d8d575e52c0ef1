// The Cooldown view: who is held back and for how long, counting down every second while shown,
// with a reset per program.
import { GLib, St } from "../../gi/ext.js";
import type { CooldownRow } from "../../model/cooldowns.js";
import { cooldownRows } from "../../model/cooldowns.js";
import { interpolate } from "../../model/i18n.js";
import type { CooldownRecord } from "../../model/records.js";
import { emptyText } from "../../model/views.js";
import type { KeyedList, RowWidget } from "../widgets.js";
import { cell, columnTable, iconButton, setAvailable, setText } from "../widgets.js";
import type { View, ViewContext } from "./view.js";
import { fetchWhileLive, runAction } from "./view.js";

export class CooldownsView implements View {
  readonly id = "cooldowns" as const;
  readonly header: St.Widget;
  readonly content: St.BoxLayout;
  readonly footer = null;
  #context: ViewContext;
  #list: KeyedList<CooldownRow>;
  #records: CooldownRecord[] = [];
  #fetchedAtUsec = 0;

  constructor(context: ViewContext) {
    this.#context = context;
    const { t } = context;
    const table = columnTable<CooldownRow>(
      "selfheal-cooldown-list",
      emptyText("cooldowns", t),
      [
        [t.gettext("Program"), "name"],
        [t.gettext("Held back"), "remaining"],
        [t.gettext("Restarts"), "window"],
      ],
      (row) => this.#createRow(row),
    );
    this.header = table.header;
    this.#list = table.list;
    this.content = table.list.actor;
  }

  async refresh(): Promise<void> {
    const records = await fetchWhileLive(this.#context, (client) => client.getCooldowns());
    if (!records) return;
    this.#records = records;
    this.#fetchedAtUsec = GLib.get_real_time();
    this.tick();
  }

  // Counts down from what the daemon last said; CooldownEnded brings a fresh list.
  mark(name: string | null): St.Widget | null {
    return this.#list.mark(name === null || name === "" ? null : (key) => key === name);
  }

  tick(): void {
    this.#list.render(cooldownRows(this.#records, this.#fetchedAtUsec, GLib.get_real_time(), this.#context.t));
  }

  #createRow(initial: CooldownRow): RowWidget<CooldownRow> {
    const { t } = this.#context;
    let row = initial;
    const actor = new St.BoxLayout({ style_class: "selfheal-row selfheal-cooldown-row", x_expand: true });
    const name = cell("", "selfheal-col-name selfheal-name");
    const remaining = cell("", "selfheal-col-remaining");
    const window = cell("", "selfheal-col-window");
    const reset = iconButton("edit-clear-symbolic", {
      accessibleName: interpolate(t.gettext("Reset the cooldown of {name}"), { name: row.name }),
      styleClass: "selfheal-reset-cooldown",
      onClick: () =>
        void runAction(
          reset,
          this.#context,
          interpolate(t.gettext("Could not reset the cooldown of {name}"), { name: row.name }),
          (client) => client.resetCooldown(row.name),
          () => this.refresh(),
        ),
    });
    for (const child of [name, remaining, window, reset]) actor.add_child(child);
    const update = (next: CooldownRow): void => {
      row = next;
      setText(name, row.name);
      setText(remaining, row.remainingText);
      setText(window, row.restartsText);
      if (row.held) remaining.add_style_class_name("selfheal-tone-error");
      else remaining.remove_style_class_name("selfheal-tone-error");
      setAvailable(reset, true);
    };
    update(row);
    return { actor, update };
  }

  destroy(): void {
    this.header.destroy();
    this.content.destroy();
  }
}
