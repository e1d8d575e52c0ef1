// The Zombies view: each zombie with its parent and age, and a "Clean up zombies" button that
// says what the cleanup did.
import { St } from "../../gi/ext.js";
import { errorMessage } from "../../dbus/manager.js";
import { emptyText } from "../../model/views.js";
import type { ZombieRow } from "../../model/zombies.js";
import { cleanupSummary, zombieRows } from "../../model/zombies.js";
import type { KeyedList, RowWidget } from "../widgets.js";
import { cell, columnTable, setSensitive, setText, textButton } from "../widgets.js";
import type { View, ViewContext } from "./view.js";
import { fetchWhileLive } from "./view.js";

export class ZombiesView implements View {
  readonly id = "zombies" as const;
  readonly header: St.Widget;
  readonly content: St.BoxLayout;
  readonly footer: St.BoxLayout;
  #context: ViewContext;
  #list: KeyedList<ZombieRow>;
  #cleanup: St.Button;
  #result: St.Label;

  constructor(context: ViewContext) {
    this.#context = context;
    const { t } = context;
    const table = columnTable<ZombieRow>(
      "selfheal-zombie-list",
      emptyText("zombies", t),
      [
        [t.gettext("Zombie"), "zombie"],
        [t.gettext("Parent"), "parent"],
        [t.gettext("Age"), "age"],
      ],
      (row) => this.#createRow(row),
    );
    this.header = table.header;
    this.#list = table.list;
    this.content = table.list.actor;
    this.footer = new St.BoxLayout({ style_class: "selfheal-footer" });
    this.#cleanup = textButton(t.gettext("Clean up zombies"), { styleClass: "selfheal-cleanup", onClick: () => void this.#runCleanup() });
    this.#result = cell("", "selfheal-cleanup-result");
    this.footer.add_child(this.#cleanup);
    this.footer.add_child(this.#result);
  }

  async refresh(): Promise<void> {
    const zombies = await fetchWhileLive(this.#context, (client) => client.listZombies());
    if (!zombies) return;
    const rows = zombieRows(zombies, this.#context.t);
    this.#list.render(rows);
    setSensitive(this.#cleanup, rows.length > 0);
  }

  // Zombies belong to no program: a notification leads to the view as a whole.
  mark(_name: string | null): St.Widget | null {
    return null;
  }

  tick(): void {}

  async #runCleanup(): Promise<void> {
    const client = this.#context.client();
    if (!client) return;
    const { t } = this.#context;
    setSensitive(this.#cleanup, false);
    setText(this.#result, t.gettext("Cleaning up…"));
    try {
      const { reaped, remaining } = await client.cleanupZombies();
      if (!this.#context.live()) return;
      setText(this.#result, cleanupSummary(reaped, remaining, t));
    } catch (error) {
      if (!this.#context.live()) return;
      setText(this.#result, "");
      this.#context.report(`${t.gettext("Could not clean up zombies")}: ${errorMessage(error)}`, true);
    }
    await this.refresh();
  }

  #createRow(row: ZombieRow): RowWidget<ZombieRow> {
    const actor = new St.BoxLayout({ style_class: "selfheal-row selfheal-zombie-row", x_expand: true });
    const title = cell("", "selfheal-col-zombie selfheal-name");
    const parent = cell("", "selfheal-col-parent");
    const age = cell("", "selfheal-col-age");
    for (const child of [title, parent, age]) actor.add_child(child);
    const update = (next: ZombieRow): void => {
      setText(title, next.title);
      setText(parent, next.parentText);
      setText(age, next.ageText);
    };
    update(row);
    return { actor, update };
  }

  destroy(): void {
    this.header.destroy();
    this.content.destroy();
    this.footer.destroy();
  }
}
