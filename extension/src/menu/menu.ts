// The indicator's menu: a summary, four views switched by tabs without closing the menu, a line
// for action outcomes, and, while the daemon is away, a way to start it. It fetches data only
// while open; the daemon's signals refresh the view that shows what they changed.

import type { PopupMenu } from "../gi/ext.js";
import { Gio, GLib, panelMenuStyle, PopupAnimation, PopupMenu as Popup, scrollIntoView, setScrollChild, St, themeContext, verticalBox } from "../gi/ext.js";
import type { ManagerClient } from "../dbus/manager.js";
import { errorMessage } from "../dbus/manager.js";
import type { Translator } from "../model/i18n.js";
import type { ManagerStatus } from "../model/records.js";
import { EMPTY_STATUS } from "../model/records.js";
import type { ViewId } from "../model/views.js";
import { isViewId, VIEW_IDS, viewTabs } from "../model/views.js";
import type { SignalSource } from "../util/scope.js";
import { Scope } from "../util/scope.js";
import { AnomaliesView } from "./views/anomaliesView.js";
import { CooldownsView } from "./views/cooldownsView.js";
import { ProcessesView } from "./views/processesView.js";
import type { View, ViewContext } from "./views/view.js";
import { ZombiesView } from "./views/zombiesView.js";
import { resolveStyles, setSensitive, setText, textButton } from "./widgets.js";

/** Signals coalesce into one refresh within this many milliseconds. */
const SIGNAL_REFRESH_DELAY_MS = 100;
/** Countdowns move once a second. */
const TICK_MS = 1000;
/** The pseudo-class St gives the actor with the key focus. */
const FOCUS_PSEUDO_CLASS = "focus";

// Which views show what each daemon signal changes.
const VIEWS_BY_SIGNAL: Record<string, readonly ViewId[]> = {
  ProcessCrashed: ["processes", "cooldowns"],
  ProcessRestarted: ["processes", "cooldowns"],
  ResourceViolation: ["processes"],
  CooldownActivated: ["cooldowns", "processes"],
  CooldownEnded: ["cooldowns", "processes"],
  AnomalyDetected: ["anomalies"],
  ZombiesDetected: ["zombies"],
  ZombiesCleaned: ["zombies"],
};

export interface MenuDependencies {
  t: Translator;
  settings: Gio.Settings;
  client(): ManagerClient | null;
  openPreferences(): void;
}

// A menu item that holds widgets: neither highlighted on hover nor closing the menu on click.
function holderItem(styleClass: string): PopupMenu.PopupBaseMenuItem {
  return new Popup.PopupBaseMenuItem({ reactive: true, activate: false, hover: false, can_focus: false, style_class: styleClass });
}

// Takes a menu out of the stage before it is destroyed. On GNOME 43 a menu whose content
// changed in the current frame stays queued for relayout in the stage after its destruction, and
// the stage then lays out the destroyed menu, whose JavaScript half may already be collected
// ("JS ERROR: TypeError: this.bin is undefined"). So: close it, let the stage lay out what is
// queued now (reading the allocation does), and unparent it, so that tearing down its items
// queues nothing more.
function detachMenuActor(menu: PopupMenu.PopupMenu): void {
  menu.close(PopupAnimation.NONE);
  const actor = menu.actor;
  actor.get_allocation_box();
  actor.get_parent()?.remove_child(actor);
}

export class SelfHealMenu {
  #menu: PopupMenu.PopupMenu;
  #deps: MenuDependencies;
  #scope = new Scope();
  #openScope: Scope | null = null;
  #views: Record<ViewId, View>;
  #current: ViewId;
  #connected = false;

  #summary: St.Label;
  #tabs = new Map<ViewId, St.Button>();
  #onlineItems: PopupMenu.PopupBaseMenuItem[];
  #headerSlot: St.BoxLayout;
  #contentSlot: St.BoxLayout;
  #scroll: St.ScrollView;
  #footerSlot: St.BoxLayout;
  #status: St.Label;
  #offlineItem: PopupMenu.PopupBaseMenuItem;
  #offlineResult: St.Label;
  #startButton: St.Button;

  #destroyed = false;
  #inFlight = false;
  #again = false;
  #pendingRefresh = 0;
  /** The idle source of #prepareSoon(), or 0. */
  #prepareId = 0;
  /** The program whose rows a notification asked to show (marked until the menu closes), or null. */
  #marked: string | null = null;

  constructor(menu: PopupMenu.PopupMenu, deps: MenuDependencies) {
    this.#menu = menu;
    this.#deps = deps;
    const { t } = deps;
    menu.actor.add_style_class_name("selfheal-menu");

    const context: ViewContext = {
      t,
      client: () => (this.#connected ? this.#deps.client() : null),
      report: (message, isError) => this.#report(message, isError),
      live: () => !this.#destroyed,
      afterNextFrame: (callback) => {
        if (!this.#destroyed) this.#afterNextFrame(this.#scope, callback);
      },
    };
    this.#views = {
      processes: new ProcessesView(context),
      anomalies: new AnomaliesView(context),
      zombies: new ZombiesView(context),
      cooldowns: new CooldownsView(context),
    };
    const saved = deps.settings.get_string("last-view");
    this.#current = isViewId(saved) ? saved : "processes";

    // Summary line.
    const summaryItem = holderItem("selfheal-summary-item");
    this.#summary = new St.Label({ style_class: "selfheal-summary", text: "" });
    summaryItem.add_child(this.#summary);

    // Tabs.
    const tabsItem = holderItem("selfheal-tabs-item");
    const tabBox = new St.BoxLayout({ style_class: "selfheal-tabs", x_expand: true });
    for (const id of VIEW_IDS) {
      const tab = new St.Button({
        style_class: `button selfheal-tab selfheal-tab-${id}`,
        label: viewTabs(EMPTY_STATUS, t).find((candidate) => candidate.id === id)?.label ?? id,
        toggle_mode: true,
        can_focus: true,
        x_expand: true,
      });
      tab.connect("clicked", () => this.show(id));
      this.#tabs.set(id, tab);
      tabBox.add_child(tab);
    }
    tabsItem.add_child(tabBox);

    // The current view: column titles, scrolled rows, footer, outcome line.
    const bodyItem = holderItem("selfheal-body-item");
    const body = verticalBox({ style_class: "selfheal-body", x_expand: true });
    this.#headerSlot = verticalBox({ x_expand: true });
    const scroll = new St.ScrollView({
      style_class: "selfheal-scroll",
      hscrollbar_policy: St.PolicyType.NEVER,
      vscrollbar_policy: St.PolicyType.AUTOMATIC,
      overlay_scrollbars: true,
      x_expand: true,
    });
    this.#contentSlot = verticalBox({ x_expand: true });
    setScrollChild(scroll, this.#contentSlot);
    this.#scroll = scroll;
    this.#footerSlot = verticalBox({ x_expand: true });
    this.#status = new St.Label({ style_class: "selfheal-status", text: "", visible: false });
    this.#status.clutter_text.line_wrap = true;
    for (const child of [this.#headerSlot, scroll, this.#footerSlot, this.#status]) body.add_child(child);
    bodyItem.add_child(body);

    // The daemon is away.
    this.#offlineItem = holderItem("selfheal-offline-item");
    const offline = verticalBox({ style_class: "selfheal-offline", x_expand: true });
    const offlineTitle = new St.Label({ style_class: "selfheal-offline-title", text: t.gettext("selfheal is not running") });
    const offlineHint = new St.Label({
      style_class: "selfheal-offline-hint popup-inactive-menu-item",
      text: t.gettext("Programs are not watched, restarted or kept within their limits until it runs again."),
    });
    offlineHint.clutter_text.line_wrap = true;
    this.#startButton = textButton(t.gettext("Start selfheal"), { styleClass: "selfheal-start-daemon", onClick: () => void this.#startDaemon() });
    this.#offlineResult = new St.Label({ style_class: "selfheal-offline-result", text: "", visible: false });
    this.#offlineResult.clutter_text.line_wrap = true;
    for (const child of [offlineTitle, offlineHint, this.#startButton, this.#offlineResult]) offline.add_child(child);
    this.#offlineItem.add_child(offline);

    const preferences = new Popup.PopupMenuItem(t.gettext("Preferences"));
    preferences.connect("activate", () => this.#deps.openPreferences());

    this.#onlineItems = [summaryItem, tabsItem, bodyItem];
    for (const item of [summaryItem, tabsItem, bodyItem, this.#offlineItem]) menu.addMenuItem(item);
    menu.addMenuItem(new Popup.PopupSeparatorMenuItem());
    menu.addMenuItem(preferences);

    // PopupMenu's JavaScript signals are typed one name at a time, which SignalSource does not model.
    this.#scope.connect(menu as unknown as SignalSource, "open-state-changed", (_menu: unknown, open: boolean) => this.#onOpenStateChanged(open));
    // Once the close is over (the menu's actor hidden), not while it still shows.
    this.#scope.connect(menu.actor, "hide", () => {
      this.#views[this.#current].closed?.();
      this.#prepareSoon();
    });
    // A new theme or stylesheet restyles every widget, the closed menu's too: readied again.
    this.#scope.connect(themeContext(), "changed", () => this.#prepareSoon());
    this.#place(this.#current);
    this.setStatus(null, "");
    this.setConnected(false);
  }

  get currentView(): ViewId {
    return this.#current;
  }

  // The daemon came or went: show the views or the way to start it.
  setConnected(connected: boolean): void {
    this.#connected = connected;
    for (const item of this.#onlineItems) item.visible = connected;
    this.#offlineItem.visible = !connected;
    if (connected) {
      this.#offlineResult.visible = false;
      setSensitive(this.#startButton, true);
      if (this.#menu.isOpen) this.#refreshSoon(0);
      else this.#prefetch();
    } else {
      // The items that show changed (and St restyles the first and last of them): the closed
      // menu is readied again for its open, which now shows the daemon down.
      this.#prepareSoon();
    }
  }

  // The daemon could not be reached at all (for instance its interface file is missing).
  setUnavailable(message: string): void {
    this.setConnected(false);
    setText(this.#offlineResult, message);
    this.#offlineResult.visible = true;
  }

  // New figures from the daemon's properties: the tabs' counts and the summary line.
  setStatus(status: ManagerStatus | null, summary: string): void {
    setText(this.#summary, summary);
    if (!status) return;
    for (const tab of viewTabs(status, this.#deps.t)) {
      const button = this.#tabs.get(tab.id);
      if (button && button.label !== tab.label) button.label = tab.label;
    }
  }

  // A daemon signal: refresh the shown view if the signal changed what it shows.
  onSignal(name: string): void {
    if (!this.#menu.isOpen) return;
    if ((VIEWS_BY_SIGNAL[name] ?? []).includes(this.#current)) this.#refreshSoon(SIGNAL_REFRESH_DELAY_MS);
  }

  // Switches to a view without closing the menu.
  show(id: ViewId): void {
    if (id !== this.#current) {
      this.#current = id;
      this.#deps.settings.set_string("last-view", id);
      this.#place(id);
      this.#clearReport();
    } else {
      this.#tabs.get(id)?.set_checked(true);
    }
    if (this.#menu.isOpen) this.#refreshSoon(0);
  }

  // A notification was clicked (the daemon's ShowRequested): open on its view, its program's rows
  // marked and in sight once they are rendered.
  showRequested(view: string, name: string): void {
    if (!isViewId(view) || !this.#connected) return;
    this.#marked = name === "" ? null : name;
    this.show(view);
    if (this.#menu.isOpen) this.#markRows();
    else this.#menu.open(PopupAnimation.FULL);
  }

  #markRows(): void {
    if (this.#marked === null) return;
    const row = this.#views[this.#current].mark(this.#marked);
    if (row && row.get_stage() !== null) scrollIntoView(this.#scroll, row);
  }

  #place(id: ViewId): void {
    for (const [tabId, tab] of this.#tabs) tab.set_checked(tabId === id);
    const view = this.#views[id];
    for (const [slot, actor] of [
      [this.#headerSlot, view.header],
      [this.#contentSlot, view.content],
      [this.#footerSlot, view.footer],
    ] as const) {
      for (const child of slot.get_children()) slot.remove_child(child);
      if (actor) slot.add_child(actor);
      slot.visible = actor !== null;
    }
  }

  #onOpenStateChanged(open: boolean): void {
    this.#openScope?.close();
    this.#openScope = null;
    if (!open) {
      this.#clearReport();
      this.#marked = null;
      for (const view of Object.values(this.#views)) view.mark(null);
      return;
    }
    const showing = this.#views[this.#current].opened?.() ?? false;
    // Timers run only while the menu is open.
    const scope = new Scope();
    this.#openScope = scope;
    const seconds = Math.max(1, this.#deps.settings.get_uint("menu-refresh-seconds"));
    scope.interval(seconds * 1000, () => this.#refreshSoon(0));
    scope.interval(TICK_MS, () => this.#views[this.#current].tick());
    // A view that shows its records already is brought up to date after the first frame, which
    // then waits neither for the daemon's reply nor for reading it.
    if (showing) this.#afterNextFrame(scope, () => this.#refreshSoon(0));
    else this.#refreshSoon(0);
  }

  // Runs `callback` (at default priority, outside the paint) once the stage has painted its next
  // frame, unless `scope` is closed first.
  #afterNextFrame(scope: Scope, callback: () => void): void {
    const stage = this.#menu.actor.get_stage();
    if (stage === null) scope.timeout(0, callback);
    else scope.once(stage, "after-paint", () => scope.timeout(0, callback));
  }

  // One fetch when the daemon connects (never repeated while the menu stays closed), so that
  // the first open shows the current view's rows in sight at once instead of waiting for the
  // daemon and building them; then the menu is made ready for that open.
  #prefetch(): void {
    const prefetch = this.#views[this.#current].prefetch?.();
    if (!prefetch) return;
    prefetch
      .then(() => {
        if (!this.#destroyed) this.#prepareSoon();
      })
      .catch(() => {
        // The open's own refresh reports errors.
      });
  }

  // Readies the closed menu for its next open once the main loop has nothing else to do: after
  // the idle callbacks in which St gives new or newly shown widgets their :first-child and
  // :last-child pseudo-classes (each restyles the widget and all in it), which run at
  // G_PRIORITY_DEFAULT_IDLE and would otherwise undo what is resolved here.
  #prepareSoon(): void {
    if (this.#prepareId !== 0) return;
    this.#prepareId = this.#scope.idle(GLib.PRIORITY_LOW, () => {
      this.#prepareId = 0;
      this.#prepare();
    });
  }

  // Gives the closed menu, out of sight, the style the open would give it, and resolves the style
  // of all on show in it, so that the open restyles nothing (a new style or pseudo-class on the
  // menu's actor restyles every widget in it: about 40 ms for the showing, 20 to 50 ms for the
  // focus, in the first open of GNOME 48 here).
  // - The panel button sets the menu's max-height at every open: given now, it is the same then.
  // - The shell's grab gives the menu's actor the key focus at every open, and St marks the actor
  //   with the key focus with the :focus pseudo-class: given now, St's is a no-op then. (St takes
  //   it off again when the focus leaves at the close; the menu's hide brings it back here.)
  #prepare(): void {
    const actor = this.#menu.actor as St.Widget;
    if (this.#destroyed || this.#menu.isOpen || actor.visible || actor.get_stage() === null) return;
    actor.ensure_style();
    actor.style = panelMenuStyle(actor);
    actor.add_style_pseudo_class(FOCUS_PSEUDO_CLASS);
    resolveStyles(actor);
  }

  #refreshSoon(delayMs: number): void {
    if (!this.#connected) return;
    if (delayMs === 0) {
      void this.#refreshNow();
      return;
    }
    if (this.#pendingRefresh !== 0) return;
    this.#pendingRefresh = this.#scope.timeout(delayMs, () => {
      this.#pendingRefresh = 0;
      void this.#refreshNow();
    });
  }

  // One refresh at a time; a request during one runs once more after it.
  async #refreshNow(): Promise<void> {
    if (this.#inFlight) {
      this.#again = true;
      return;
    }
    this.#inFlight = true;
    const view = this.#views[this.#current];
    try {
      await view.refresh();
      if (!this.#destroyed && view === this.#views[this.#current]) this.#markRows();
    } catch (error) {
      if (!this.#destroyed) this.#report(`${this.#deps.t.gettext("Could not load this view")}: ${errorMessage(error)}`, true);
    } finally {
      this.#inFlight = false;
    }
    // A refresh that ended after the close (asked for just before it) changed rows the close's
    // readying had resolved: readied again, or the next open restyles them.
    if (!this.#destroyed && !this.#menu.isOpen) this.#prepareSoon();
    if (this.#again && !this.#destroyed) {
      this.#again = false;
      void this.#refreshNow();
    }
  }

  async #startDaemon(): Promise<void> {
    const client = this.#deps.client();
    const { t } = this.#deps;
    if (!client) return;
    setSensitive(this.#startButton, false);
    setText(this.#offlineResult, t.gettext("Starting selfheal…"));
    this.#offlineResult.visible = true;
    try {
      await client.startDaemon();
    } catch (error) {
      if (this.#destroyed) return;
      const notInstalled = error instanceof GLib.Error && error.matches(Gio.DBusError, Gio.DBusError.SERVICE_UNKNOWN);
      setText(
        this.#offlineResult,
        notInstalled
          ? t.gettext("selfheal's D-Bus service is not installed: run install.sh, or start “selfheal daemon” yourself.")
          : `${t.gettext("Could not start selfheal")}: ${errorMessage(error)}`,
      );
      setSensitive(this.#startButton, true);
    }
  }

  #report(message: string, isError: boolean): void {
    setText(this.#status, message);
    if (isError) this.#status.add_style_class_name("selfheal-tone-error");
    else this.#status.remove_style_class_name("selfheal-tone-error");
    this.#status.visible = message !== "";
  }

  #clearReport(): void {
    this.#report("", false);
  }

  destroy(): void {
    this.#destroyed = true;
    this.#openScope?.close();
    this.#openScope = null;
    this.#scope.close();
    detachMenuActor(this.#menu);
    // The view on show goes with the menu; the others are not in its tree.
    for (const view of Object.values(this.#views)) if (view.id !== this.#current) view.destroy();
  }
}

