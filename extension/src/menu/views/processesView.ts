// The Processes view: name, PID, state, CPU, memory, restarts and cooldown of every watched
// program, with start or stop, restart and cooldown reset per row.
import { St } from "../../gi/ext.js";
import { interpolate } from "../../model/i18n.js";
import type { ProcessRow, Tone } from "../../model/processes.js";
import { processRows } from "../../model/processes.js";
import type { ProcessRecord } from "../../model/records.js";
import { emptyText } from "../../model/views.js";
import type { RowWidget } from "../widgets.js";
import { cell, iconButton, KeyedList, setAvailable, setOneClass, setText } from "../widgets.js";
import type { View, ViewContext } from "./view.js";
import { runAction } from "./view.js";

const TONE_CLASSES: readonly string[] = ["selfheal-tone-ok", "selfheal-tone-warning", "selfheal-tone-error", "selfheal-tone-inactive"];
const toneClass = (tone: Tone): string => `selfheal-tone-${tone}`;

export class ProcessesView implements View {
  readonly id = "processes" as const;
  readonly header: St.Widget;
  readonly content: St.BoxLayout;
  readonly footer = null;
  #context: ViewContext;
  #list: KeyedList<ProcessRow>;

  constructor(context: ViewContext) {
    this.#context = context;
    const { t } = context;
    this.header = new St.BoxLayout({ style_class: "selfheal-row selfheal-column-titles" });
    for (const [title, column] of [
      [t.gettext("Program"), "name"],
      [t.gettext("State"), "state"],
      [t.gettext("PID"), "pid"],
      [t.gettext("CPU"), "cpu"],
      [t.gettext("Memory"), "memory"],
      [t.gettext("Restarts"), "restarts"],
      [t.gettext("Cooldown"), "cooldown"],
    ] as const) {
      this.header.add_child(cell(title, `selfheal-col-${column}`));
    }
    this.#list = new KeyedList("selfheal-process-list", emptyText("processes", t), (row) => this.#createRow(row));
    this.#list.setHeader(this.header);
    this.content = this.#list.actor;
  }

  async refresh(): Promise<void> {
    const client = this.#context.client();
    if (!client) return;
    this.render(await client.listProcesses());
  }

  render(records: readonly ProcessRecord[]): void {
    this.#list.render(processRows(records, this.#context.t));
  }

  tick(): void {}

  #createRow(initial: ProcessRow): RowWidget<ProcessRow> {
    const { t } = this.#context;
    let row = initial;
    const actor = new St.BoxLayout({ style_class: "selfheal-row selfheal-process-row", x_expand: true });
    const name = cell(row.name, "selfheal-col-name selfheal-name");
    const state = cell("", "selfheal-col-state");
    const pid = cell("", "selfheal-col-pid");
    const cpu = cell("", "selfheal-col-cpu");
    const memory = cell("", "selfheal-col-memory");
    const restarts = cell("", "selfheal-col-restarts");
    const cooldown = cell("", "selfheal-col-cooldown");
    const refresh = (): Promise<void> => this.refresh();
    const startStop = iconButton("media-playback-stop-symbolic", {
      accessibleName: "",
      onClick: () =>
        void (row.canStop
          ? runAction(startStop, this.#context, interpolate(t.gettext("Could not stop {name}"), { name: row.name }), (c) => c.stopProcess(row.name), refresh)
          : runAction(startStop, this.#context, interpolate(t.gettext("Could not start {name}"), { name: row.name }), (c) => c.startProcess(row.name), refresh)),
    });
    const restart = iconButton("view-refresh-symbolic", {
      accessibleName: interpolate(t.gettext("Restart {name}"), { name: row.name }),
      styleClass: "selfheal-restart",
      onClick: () =>
        void runAction(restart, this.#context, interpolate(t.gettext("Could not restart {name}"), { name: row.name }), (c) => c.restartProcess(row.name), refresh),
    });
    const reset = iconButton("edit-clear-symbolic", {
      accessibleName: interpolate(t.gettext("Reset the cooldown of {name}"), { name: row.name }),
      styleClass: "selfheal-reset-cooldown",
      onClick: () =>
        void runAction(reset, this.#context, interpolate(t.gettext("Could not reset the cooldown of {name}"), { name: row.name }), (c) => c.resetCooldown(row.name), refresh),
    });
    const actions = new St.BoxLayout({ style_class: "selfheal-actions" });
    for (const child of [startStop, restart, reset]) actions.add_child(child);
    for (const child of [name, state, pid, cpu, memory, restarts, cooldown, actions]) actor.add_child(child);

    const update = (next: ProcessRow): void => {
      row = next;
      setText(state, row.stateText);
      setOneClass(state, TONE_CLASSES, toneClass(row.tone));
      setText(pid, row.pidText);
      setText(cpu, row.cpuText);
      setText(memory, row.memoryText);
      setText(restarts, row.restartsText);
      setText(cooldown, row.cooldownText);
      if (row.overCpuLimit) cpu.add_style_class_name("selfheal-over-limit");
      else cpu.remove_style_class_name("selfheal-over-limit");
      if (row.overMemoryLimit) memory.add_style_class_name("selfheal-over-limit");
      else memory.remove_style_class_name("selfheal-over-limit");
      const stopping = row.canStop;
      (startStop.child as St.Icon).icon_name = stopping ? "media-playback-stop-symbolic" : "media-playback-start-symbolic";
      startStop.accessible_name = interpolate(stopping ? t.gettext("Stop {name}") : t.gettext("Start {name}"), { name: row.name });
      setOneClass(startStop, ["selfheal-stop", "selfheal-start"], stopping ? "selfheal-stop" : "selfheal-start");
      setAvailable(startStop, row.canStop || row.canStart);
      setAvailable(restart, row.canRestart);
      setAvailable(reset, row.canResetCooldown);
    };
    update(row);
    return { actor, update };
  }

  destroy(): void {
    this.header.destroy();
    this.content.destroy();
  }
}
