// The Processes view: name, PID, state, CPU, memory, restarts and cooldown of every watched
// program, with start or stop, restart and cooldown reset per row; an app policy's row shows the
// app's icon and name. Below the rows, "Watch an app…" lists the running applications no policy
// watches yet; a click watches one (SetPolicy with `app`) and its row appears.
import { GLib, St, verticalBox } from "../../gi/ext.js";
import { interpolate } from "../../model/i18n.js";
import type { ProcessRow, Tone } from "../../model/processes.js";
import { processRows } from "../../model/processes.js";
import type { ProcessRecord } from "../../model/records.js";
import { emptyText } from "../../model/views.js";
import type { RowWidget } from "../widgets.js";
import { cell, columnTable, iconButton, KeyedList, setAvailable, setFlag, setOneClass, setText, textButton } from "../widgets.js";
import type { RunningAppWithIcon } from "../runningApps.js";
import { iconFromString, runningApps } from "../runningApps.js";
import { freePolicyName, unwatchedApps } from "../../model/watchApp.js";
import type { ManagerClient } from "../../dbus/manager.js";
import { errorMessage } from "../../dbus/manager.js";
import type { View, ViewContext } from "./view.js";
import { Sparkline } from "../sparkline.js";
import type { TrendSample } from "../../model/trend.js";
import { mergeSamples } from "../../model/trend.js";
import { fetchWhileLive, runAction } from "./view.js";

const TONE_CLASSES: readonly string[] = ["selfheal-tone-ok", "selfheal-tone-warning", "selfheal-tone-error", "selfheal-tone-inactive"];
const toneClass = (tone: Tone): string => `selfheal-tone-${tone}`;

interface RowAction {
  failure: string;
  call: (client: ManagerClient, name: string) => Promise<unknown>;
}

/** One running app offered by "Watch an app…". */
type AppChoice = RunningAppWithIcon & { key: string };

export class ProcessesView implements View {
  readonly id = "processes" as const;
  readonly header: St.Widget;
  readonly content: St.BoxLayout;
  readonly footer: St.BoxLayout;
  #context: ViewContext;
  #list: KeyedList<ProcessRow>;
  #rendered = false;
  /** The records on show, for the apps still to watch and the names taken. */
  #records: readonly ProcessRecord[] = [];
  #watchApp: St.Button;
  #apps: KeyedList<AppChoice>;
  /** The apps whose watch is under way (by id). */
  #watching = new Set<string>();
  /** Each row's memory sparkline, the samples it holds and whether a fetch is on its way, by program name. */
  #trends = new Map<string, { sparkline: Sparkline; samples: readonly TrendSample[]; limitBytes: number; fetching: boolean }>();

  constructor(context: ViewContext) {
    this.#context = context;
    const { t } = context;
    const table = columnTable<ProcessRow>(
      "selfheal-process-list",
      emptyText("processes", t),
      [
        [t.gettext("Program"), "name"],
        [t.gettext("State"), "state"],
        [t.gettext("PID"), "pid"],
        [t.gettext("CPU"), "cpu"],
        [t.gettext("Memory"), "memory"],
        [t.gettext("Trend"), "trend"],
        [t.gettext("Restarts"), "restarts"],
        [t.gettext("Cooldown"), "cooldown"],
      ],
      (row) => this.#createRow(row),
      {
        afterNextFrame: (callback) => context.afterNextFrame(callback),
        // Rows built on show after a refresh's look at the trends get their samples after their
        // first frame (those built while the menu is closed, at its first refresh).
        onRowsBuilt: () => {
          if (this.content.is_mapped()) context.afterNextFrame(() => void this.#refreshTrends(true));
        },
      },
    );
    this.header = table.header;
    this.#list = table.list;
    this.content = table.list.actor;
    this.footer = verticalBox({ style_class: "selfheal-watch-app-footer", x_expand: true });
    const actions = new St.BoxLayout({ style_class: "selfheal-footer" });
    this.#watchApp = textButton(t.gettext("Watch an app…"), { styleClass: "selfheal-watch-app", onClick: () => this.#toggleApps() });
    actions.add_child(this.#watchApp);
    this.#apps = new KeyedList<AppChoice>("selfheal-app-list", t.gettext("Every running application is watched already."), (app) => this.#createAppChoice(app));
    this.#apps.actor.visible = false;
    this.footer.add_child(actions);
    this.footer.add_child(this.#apps.actor);
  }

  // Shows the running apps no policy watches (as the shell knows them now), or hides the list.
  #toggleApps(): void {
    if (this.#apps.actor.visible) {
      this.#apps.actor.visible = false;
      return;
    }
    this.#showApps();
    this.#apps.actor.visible = true;
  }

  #showApps(): void {
    const running = runningApps();
    const byId = new Map(running.map((app) => [app.id, app]));
    this.#apps.render(unwatchedApps(running, this.#records).map((app) => ({ ...byId.get(app.id)!, key: app.id })));
  }

  // One running app: its icon and name; a click watches it.
  #createAppChoice(app: AppChoice): RowWidget<AppChoice> {
    const box = new St.BoxLayout({ style_class: "selfheal-app-choice-box" });
    if (app.gicon) box.add_child(new St.Icon({ gicon: app.gicon, style_class: "selfheal-app-icon" }));
    box.add_child(cell(app.name, "selfheal-app-choice-name"));
    const button = new St.Button({ style_class: "button flat selfheal-app-choice", child: box, can_focus: true, x_expand: true, accessible_name: app.name });
    button.connect("clicked", () => void this.#watch(app));
    return { actor: button, update: () => undefined };
  }

  // Watch one app: a policy named after its id (one no policy has), with only `app` set; the
  // daemon takes command and match from its desktop file and adopts the running copy at once.
  async #watch(app: AppChoice): Promise<void> {
    const { t } = this.#context;
    const client = this.#context.client();
    // A second click while the first is answered changes nothing; the button is not greyed out
    // meanwhile, since that frame (30 to 40 ms of paint in a software-rendered shell) would take
    // the CPU from the daemon's answer and hold the reply behind it.
    if (!client || this.#watching.has(app.id)) return;
    this.#watching.add(app.id);
    try {
      await this.#watchWith(client, app, freePolicyName(app.id, new Set(this.#records.map((record) => record.name))));
    } catch (error) {
      if (this.#context.live()) this.#context.report(interpolate(t.gettext("Could not watch {app}: {error}"), { app: app.name, error: errorMessage(error) }), true);
    } finally {
      this.#watching.delete(app.id);
    }
  }

  // SetPolicy and, sent right behind it, ListProcesses: the daemon answers the read once the edit
  // is applied (the running copy adopted), so the records come with the reply, not a round trip
  // after it. The view then changes once: the row comes and the list goes in one frame (hiding
  // the list first painted a frame without either, and held the records' reply behind it).
  async #watchWith(client: ManagerClient, app: AppChoice, name: string): Promise<void> {
    const { t } = this.#context;
    const edited = client.setPolicy(name, { app: new GLib.Variant("s", app.id) });
    const fetched = client.listProcesses();
    // Unhandled otherwise when the edit fails first.
    fetched.catch(() => undefined);
    await edited;
    let records: readonly ProcessRecord[] | null = await fetched.catch(() => null);
    // A daemon of an earlier version answers a read before the edit ends: asked again.
    if (records !== null && !records.some((record) => record.name === name) && this.#context.live()) records = await client.listProcesses().catch(() => null);
    if (!this.#context.live()) return;
    // Marked first: the row is built with its mark, not restyled for it once on show.
    this.mark(name);
    if (records) this.#renderRows(records);
    this.#apps.actor.visible = false;
    this.#context.report(interpolate(t.gettext("Watching {app}"), { app: app.name }), false);
    if (records) await this.#refreshTrends(false);
  }

  async refresh(): Promise<void> {
    const records = await fetchWhileLive(this.#context, (client) => client.listProcesses());
    if (!records) return;
    this.render(records);
    await this.#refreshTrends(false);
  }

  // The sparklines of the rows built: the samples since each one's last (all of the last 10
  // minutes at first); with `onlyNew`, only for rows that hold none yet.
  async #refreshTrends(onlyNew: boolean): Promise<void> {
    const client = this.#context.client();
    if (!client) return;
    const limits = new Map(this.#records.map((record) => [record.name, record.memoryLimitBytes]));
    await Promise.all(
      [...this.#trends].map(async ([name, trend]) => {
        if (trend.fetching || (onlyNew && trend.samples.length > 0)) return;
        trend.fetching = true;
        const last = trend.samples.length > 0 ? trend.samples[trend.samples.length - 1]![0] + 1 : 0;
        try {
          const fresh = await client.getHistory(name, last);
          if (!this.#context.live() || this.#trends.get(name) !== trend) return;
          const now = GLib.get_real_time();
          trend.samples = mergeSamples(trend.samples, fresh, now);
          trend.limitBytes = limits.get(name) ?? 0;
          trend.sparkline.set(trend.samples, trend.limitBytes, now);
        } finally {
          trend.fetching = false;
        }
      }),
    );
  }

  // Builds the rows in sight (ROWS_PER_FRAME) while the menu is closed, so that its first frame
  // has them without building them; the refresh after that frame brings them up to date.
  async prefetch(): Promise<void> {
    const records = await fetchWhileLive(this.#context, (client) => client.listProcesses());
    if (records) this.render(records);
  }

  opened(): boolean {
    this.#list.resume();
    return this.#rendered;
  }

  closed(): void {
    this.#list.collapse();
  }

  render(records: readonly ProcessRecord[]): void {
    this.#renderRows(records);
    if (this.#apps.actor.visible) this.#showApps();
  }

  #renderRows(records: readonly ProcessRecord[]): void {
    this.#rendered = true;
    this.#records = records;
    this.#list.render(processRows(records, this.#context.t));
  }

  mark(name: string | null): St.Widget | null {
    return this.#list.mark(name === null || name === "" ? null : (key) => key === name);
  }

  tick(): void {}

  // One row: seven figures and the actions its state allows. The cooldown reset, needed only by
  // a program held back, is built the first time it is needed: menus of many programs open
  // faster with a fifth fewer widgets.
  #createRow(initial: ProcessRow): RowWidget<ProcessRow> {
    const { t } = this.#context;
    let row = initial;
    const current = (): ProcessRow => row;
    const actor = new St.BoxLayout({ style_class: "selfheal-row selfheal-process-row", x_expand: true });
    // An app policy's row: the app's icon, then its name in a column narrowed by the icon's width.
    const gicon = iconFromString(row.icon);
    const appIcon = gicon === null ? null : new St.Icon({ gicon, style_class: "selfheal-app-icon" });
    const name = cell(row.title, `selfheal-col-name selfheal-name${appIcon === null ? "" : " selfheal-app-name"}`);
    const state = cell("", "selfheal-col-state");
    const pid = cell("", "selfheal-col-pid");
    const cpu = cell("", "selfheal-col-cpu");
    const memory = cell("", "selfheal-col-memory");
    const sparkline = new Sparkline("selfheal-col-trend selfheal-sparkline");
    const trend = { sparkline, samples: [] as readonly TrendSample[], limitBytes: 0, fetching: false };
    this.#trends.set(row.name, trend);
    sparkline.actor.connect("destroy", () => {
      if (this.#trends.get(initial.name) === trend) this.#trends.delete(initial.name);
    });
    const restarts = cell("", "selfheal-col-restarts");
    const cooldown = cell("", "selfheal-col-cooldown");
    const startStop = this.#button("selfheal-start-stop", "media-playback-stop-symbolic", current, (now) =>
      now.canStop
        ? { failure: t.gettext("Could not stop {name}"), call: (client, who) => client.stopProcess(who) }
        : { failure: t.gettext("Could not start {name}"), call: (client, who) => client.startProcess(who) },
    );
    const restart = this.#button("selfheal-restart", "view-refresh-symbolic", current, () => ({
      failure: t.gettext("Could not restart {name}"),
      call: (client, who) => client.restartProcess(who),
    }));
    let reset: St.Button | null = null;
    if (appIcon !== null) actor.add_child(appIcon);
    for (const child of [name, state, pid, cpu, memory, sparkline.actor, restarts, cooldown, startStop, restart]) actor.add_child(child);

    const update = (next: ProcessRow): void => {
      row = next;
      setText(name, row.title);
      setText(state, row.stateText);
      setOneClass(state, TONE_CLASSES, toneClass(row.tone));
      setText(pid, row.pidText);
      setText(cpu, row.cpuText);
      setText(memory, row.memoryText);
      setText(restarts, row.restartsText);
      setText(cooldown, row.cooldownText);
      setFlag(cpu, "selfheal-over-limit", row.overCpuLimit);
      setFlag(memory, "selfheal-over-limit", row.overMemoryLimit);
      const stopping = row.canStop;
      const icon = startStop.child as St.Icon;
      const iconName = stopping ? "media-playback-stop-symbolic" : "media-playback-start-symbolic";
      if (icon.icon_name !== iconName) icon.icon_name = iconName;
      startStop.accessible_name = interpolate(stopping ? t.gettext("Stop {name}") : t.gettext("Start {name}"), { name: row.name });
      setFlag(startStop, "selfheal-stop", stopping);
      setFlag(startStop, "selfheal-start", !stopping);
      setAvailable(startStop, row.canStop || row.canStart);
      restart.accessible_name = interpolate(t.gettext("Restart {name}"), { name: row.name });
      setAvailable(restart, row.canRestart);
      if (row.canResetCooldown && !reset) {
        reset = this.#button("selfheal-reset-cooldown", "edit-clear-symbolic", current, () => ({
          failure: t.gettext("Could not reset the cooldown of {name}"),
          call: (client, who) => client.resetCooldown(who),
        }));
        reset.accessible_name = interpolate(t.gettext("Reset the cooldown of {name}"), { name: row.name });
        actor.add_child(reset);
      }
      if (reset) setAvailable(reset, row.canResetCooldown);
    };
    update(row);
    return { actor, update };
  }

  // An action button; `act` tells, for the row as it is when clicked, the failure message
  // (with {name}) and the call to make.
  #button(styleClass: string, iconName: string, current: () => ProcessRow, act: (row: ProcessRow) => RowAction): St.Button {
    const button = iconButton(iconName, {
      accessibleName: "",
      styleClass,
      onClick: () => {
        const row = current();
        const { failure, call } = act(row);
        void runAction(button, this.#context, interpolate(failure, { name: row.name }), (client) => call(client, row.name), () => this.refresh());
      },
    });
    return button;
  }

  destroy(): void {
    this.header.destroy();
    this.content.destroy();
    this.footer.destroy();
  }
}
