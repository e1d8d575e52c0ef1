// The Zombies view: each zombie with its parent and age, a "Clean up zombies" button that
// says what the cleanup did, and each parent with why it keeps its zombies and an "End parent"
// button that asks for confirmation before the daemon ends it (EndZombieParent).
import { St, verticalBox } from "../../gi/ext.js";
import { errorMessage } from "../../dbus/manager.js";
import { emptyText } from "../../model/views.js";
import type { ZombieParentRow, ZombieRow } from "../../model/zombies.js";
import { cleanupSummary, endParentSummary, zombieParentRows, zombieRows } from "../../model/zombies.js";
import type { RowWidget } from "../widgets.js";
import { cell, columnTable, KeyedList, setSensitive, setText, textButton } from "../widgets.js";
import type { View, ViewContext } from "./view.js";
import { fetchWhileLive } from "./view.js";

export class ZombiesView implements View {
  readonly id = "zombies" as const;
  readonly header: St.Widget;
  readonly content: St.BoxLayout;
  readonly footer: St.BoxLayout;
  #context: ViewContext;
  #list: KeyedList<ZombieRow>;
  #parents: KeyedList<ZombieParentRow>;
  /** The parent whose end waits for the user's confirmation, if any. */
  #confirming: number | null = null;
  #parentRows: ZombieParentRow[] = [];
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
    this.footer = verticalBox({ style_class: "selfheal-zombie-footer", x_expand: true });
    const actions = new St.BoxLayout({ style_class: "selfheal-footer" });
    this.#cleanup = textButton(t.gettext("Clean up zombies"), { styleClass: "selfheal-cleanup", onClick: () => void this.#runCleanup() });
    this.#result = cell("", "selfheal-cleanup-result");
    actions.add_child(this.#cleanup);
    actions.add_child(this.#result);
    this.#parents = new KeyedList<ZombieParentRow>("selfheal-zombie-parents", "", (row) => this.#createParentRow(row));
    this.footer.add_child(actions);
    this.footer.add_child(this.#parents.actor);
  }

  async refresh(): Promise<void> {
    const zombies = await fetchWhileLive(this.#context, (client) => client.listZombies());
    if (!zombies) return;
    const rows = zombieRows(zombies, this.#context.t);
    this.#list.render(rows);
    this.#parentRows = zombieParentRows(zombies, this.#context.t);
    if (!this.#parentRows.some((parent) => parent.ppid === this.#confirming)) this.#confirming = null;
    this.#parents.render(this.#parentRows);
    setSensitive(this.#cleanup, rows.length > 0);
  }

  // One parent: what it holds and why, an "End parent…" button, and once clicked, the question with End and Cancel.
  #createParentRow(row: ZombieParentRow): RowWidget<ZombieParentRow> {
    const { t } = this.#context;
    let current = row;
    const actor = new St.BoxLayout({ style_class: "selfheal-row selfheal-zombie-parent", x_expand: true });
    const text = verticalBox({ x_expand: true });
    const title = cell("", "selfheal-name");
    const detail = cell("", "selfheal-zombie-parent-detail");
    detail.clutter_text.line_wrap = true;
    text.add_child(title);
    text.add_child(detail);
    const ask = textButton(t.gettext("End parent…"), { styleClass: "selfheal-end-parent", onClick: () => this.#ask(current.ppid) });
    const question = cell("", "selfheal-end-parent-question");
    const confirm = textButton(t.gettext("End"), { styleClass: "selfheal-end-parent-confirm", onClick: () => void this.#endParent(current) });
    const cancel = textButton(t.gettext("Cancel"), { styleClass: "selfheal-end-parent-cancel", onClick: () => this.#ask(null) });
    for (const child of [text, ask, question, confirm, cancel]) actor.add_child(child);
    const update = (next: ZombieParentRow): void => {
      current = next;
      const confirming = this.#confirming === next.ppid;
      setText(title, next.title);
      setText(detail, next.detail);
      setText(question, next.confirmText);
      ask.visible = next.canEnd && !confirming;
      question.visible = confirm.visible = cancel.visible = next.canEnd && confirming;
    };
    update(row);
    return { actor, update };
  }

  // Ask to confirm the end of one parent (null: none); the rows show the question or the button again.
  #ask(ppid: number | null): void {
    this.#confirming = ppid;
    this.#parents.render(this.#parentRows);
  }

  async #endParent(row: ZombieParentRow): Promise<void> {
    const client = this.#context.client();
    if (!client) return;
    const { t } = this.#context;
    this.#confirming = null;
    setText(this.#result, t.gettext("Ending the parent…"));
    try {
      const { reaped, remaining } = await client.endZombieParent(row.ppid);
      if (!this.#context.live()) return;
      setText(this.#result, endParentSummary(row.title, reaped, remaining, t));
    } catch (error) {
      if (!this.#context.live()) return;
      setText(this.#result, "");
      this.#context.report(`${t.gettext("Could not end the parent")}: ${errorMessage(error)}`, true);
    }
    await this.refresh();
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
