// The extension's entry point. enable() builds the indicator, its menu and the daemon's client;
// disable() destroys, disconnects and cancels all of it. Nothing is created before enable().

import type { Gio as GioTypes } from "./gi/ext.js";
import { Extension, Gio, GLib, Main, menuOf } from "./gi/ext.js";
import { ManagerClient, errorMessage, isCancelled } from "./dbus/manager.js";
import { Indicator } from "./indicator/indicator.js";
import { SelfHealMenu } from "./menu/menu.js";
import { CrashTracker, indicatorState } from "./model/health.js";
import type { Translator } from "./model/i18n.js";
import { EMPTY_STATUS } from "./model/records.js";
import { Scope } from "./util/scope.js";

const MS_PER_SECOND = 1000;

// Everything that lives between enable() and disable().
class Session {
  #extension: SelfHealExtension;
  #t: Translator;
  #settings: GioTypes.Settings;
  #scope = new Scope();
  #cancellable = new Gio.Cancellable();
  #client: ManagerClient | null = null;
  #crashes: CrashTracker;
  #indicator: Indicator;
  #menu: SelfHealMenu;
  #cpuPercent: number | null = null;
  #cpuTimer = 0;
  #crashTimer = 0;
  #destroyed = false;

  constructor(extension: SelfHealExtension) {
    this.#extension = extension;
    this.#t = {
      gettext: (str) => extension.gettext(str),
      ngettext: (str, strPlural, n) => extension.ngettext(str, strPlural, n),
    };
    this.#settings = extension.getSettings();
    this.#crashes = new CrashTracker(this.#settings.get_uint("crash-highlight-seconds") * MS_PER_SECOND);
    this.#indicator = new Indicator(extension.path, this.#t.gettext("selfheal"));
    this.#menu = new SelfHealMenu(menuOf(this.#indicator.button), {
      t: this.#t,
      settings: this.#settings,
      client: () => this.#client,
      openPreferences: () => extension.openPreferences(),
    });
    Main.panel.addToStatusArea(extension.uuid, this.#indicator.button);

    this.#scope.connect(this.#settings, "changed", (_settings: unknown, key: string) => this.#onSettingChanged(key));
    this.#updateIndicator();
    this.#connect();
  }

  // Builds the daemon's client; the daemon need not be running.
  #connect(): void {
    ManagerClient.create(
      this.#extension.path,
      {
        connectionChanged: (connected) => this.#onConnectionChanged(connected),
        statusChanged: () => this.#updateIndicator(),
        signal: (name, args) => this.#onSignal(name, args),
      },
      this.#cancellable,
    ).then(
      (client) => {
        if (this.#destroyed) {
          client.close();
          return;
        }
        this.#client = client;
        this.#onConnectionChanged(client.connected);
      },
      (error: unknown) => {
        if (this.#destroyed || isCancelled(error)) return;
        console.error(`selfheal: cannot reach the daemon's D-Bus interface: ${errorMessage(error)}`);
        this.#menu.setUnavailable(`${this.#t.gettext("Cannot talk to selfheal")}: ${errorMessage(error)}`);
      },
    );
  }

  #onConnectionChanged(connected: boolean): void {
    if (!connected) this.#crashes.clear();
    this.#menu.setConnected(connected);
    this.#restartCpuTimer();
    this.#updateIndicator();
  }

  #onSignal(name: string, args: unknown[]): void {
    const processName = typeof args[0] === "string" ? args[0] : "";
    switch (name) {
      case "ProcessCrashed":
        this.#crashes.note({
          name: processName,
          pid: Number(args[1] ?? 0),
          willRestart: args[4] === true,
          atMs: GLib.get_monotonic_time() / 1000,
        });
        this.#updateIndicator();
        this.#scheduleCrashExpiry();
        break;
      case "ProcessRestarted":
        this.#crashes.restarted(processName);
        this.#updateIndicator();
        break;
      case "CooldownActivated":
        this.#crashes.forget(processName);
        this.#updateIndicator();
        break;
      case "ShowRequested":
        this.#menu.showRequested(processName, typeof args[1] === "string" ? args[1] : "");
        break;
    }
    this.#menu.onSignal(name);
  }

  // Wakes up when the oldest remembered crash is due to leave the icon.
  #scheduleCrashExpiry(): void {
    this.#scope.cancel(this.#crashTimer);
    this.#crashTimer = 0;
    const next = this.#crashes.nextExpiryMs(GLib.get_monotonic_time() / 1000);
    if (next === null) return;
    this.#crashTimer = this.#scope.timeout(Math.ceil(next) + 1, () => {
      this.#crashTimer = 0;
      this.#updateIndicator();
      this.#scheduleCrashExpiry();
    });
  }

  #onSettingChanged(key: string): void {
    if (key === "crash-highlight-seconds") {
      this.#crashes.holdMs = this.#settings.get_uint(key) * MS_PER_SECOND;
      this.#scheduleCrashExpiry();
    }
    if (key === "show-cpu" || key === "panel-refresh-seconds") this.#restartCpuTimer();
    this.#updateIndicator();
  }

  // The top bar's CPU figure is the only thing polled with the menu closed, and only when shown.
  #restartCpuTimer(): void {
    this.#scope.cancel(this.#cpuTimer);
    this.#cpuTimer = 0;
    this.#cpuPercent = null;
    if (!this.#settings.get_boolean("show-cpu") || !this.#client?.connected) return;
    const seconds = Math.max(2, this.#settings.get_uint("panel-refresh-seconds"));
    this.#cpuTimer = this.#scope.interval(seconds * MS_PER_SECOND, () => void this.#refreshCpu());
    void this.#refreshCpu();
  }

  async #refreshCpu(): Promise<void> {
    const client = this.#client;
    if (!client?.connected) return;
    try {
      const processes = await client.listProcesses();
      if (this.#destroyed) return;
      this.#cpuPercent = processes.reduce((sum, record) => sum + (record.pid > 0 ? record.cpuPercent : 0), 0);
    } catch {
      if (this.#destroyed) return;
      this.#cpuPercent = null;
    }
    this.#updateIndicator();
  }

  #updateIndicator(): void {
    const connected = this.#client?.connected ?? false;
    const status = this.#client?.status ?? EMPTY_STATUS;
    const state = indicatorState(
      {
        connected,
        status,
        crashes: this.#crashes.active(GLib.get_monotonic_time() / 1000),
        showCount: this.#settings.get_boolean("show-count"),
        cpuPercent: this.#settings.get_boolean("show-cpu") ? this.#cpuPercent : null,
      },
      this.#t,
    );
    this.#indicator.show(state);
    this.#menu.setStatus(connected ? status : null, state.summary);
  }

  destroy(): void {
    this.#destroyed = true;
    this.#cancellable.cancel();
    this.#client?.close();
    this.#client = null;
    this.#scope.close();
    this.#menu.destroy();
    this.#indicator.destroy();
  }
}

export default class SelfHealExtension extends Extension {
  #session: Session | null = null;

  override enable(): void {
    this.#session = new Session(this);
  }

  override disable(): void {
    this.#session?.destroy();
    this.#session = null;
  }
}
