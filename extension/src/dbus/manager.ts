// The D-Bus glue: one proxy for io.github.SelfHeal1.Manager, built from the interface XML the
// extension ships (a copy of dbus/io.github.SelfHeal1.Manager.xml, read asynchronously), with
// typed calls, the daemon's signals and properties, and its coming and going on the bus.
import { Gio, GLib } from "../gi/core.js";
import type { AnomalyRecord, CooldownRecord, Dict, ManagerStatus, ProcessRecord, ZombieRecord } from "../model/records.js";
import { EMPTY_STATUS, parseAnomaly, parseCooldown, parseProcess, parseStatus, parseZombie } from "../model/records.js";

export const BUS_NAME = "io.github.SelfHeal1";
export const OBJECT_PATH = "/io/github/SelfHeal1";
export const INTERFACE_NAME = "io.github.SelfHeal1.Manager";
/** The interface XML's place inside the extension's directory. */
export const INTERFACE_XML_PATH = "dbus/io.github.SelfHeal1.Manager.xml";

const STATUS_PROPERTIES = ["Version", "Health", "WatchedCount", "ZombieCount", "AnomalyCount", "CooldownCount"] as const;

export interface ManagerEvents {
  /** The daemon appeared on the bus or left it. */
  connectionChanged(connected: boolean): void;
  /** One of the Manager's properties changed (or all of them, on connect and disconnect). */
  statusChanged(status: ManagerStatus): void;
  /** A Manager signal, its arguments unpacked to plain values. */
  signal(name: string, args: unknown[]): void;
}

type RemoteCallback = (result: unknown[] | null, error: unknown) => void;
type ProxyWithMethods = Gio.DBusProxy & Record<string, (...args: unknown[]) => void>;

// A Variant and everything inside it as plain values; anything else as it is.
function plain(value: unknown): unknown {
  if (value instanceof GLib.Variant) return value.recursiveUnpack();
  if (Array.isArray(value)) return value.map(plain);
  if (value !== null && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([key, inner]) => [key, plain(inner)]));
  }
  return value;
}

function dicts(value: unknown): Dict[] {
  return Array.isArray(value) ? value.filter((item): item is Dict => item !== null && typeof item === "object") : [];
}

// The message of a D-Bus error reply without GDBus's "GDBus.Error:name: " prefix.
export function errorMessage(error: unknown): string {
  if (error instanceof GLib.Error) {
    if (Gio.DBusError.is_remote_error(error)) Gio.DBusError.strip_remote_error(error);
    return error.message;
  }
  return error instanceof Error ? error.message : String(error);
}

export function isCancelled(error: unknown): boolean {
  return error instanceof GLib.Error && error.matches(Gio.IOErrorEnum, Gio.IOErrorEnum.CANCELLED);
}

// Reads the interface XML without blocking the main loop.
function readInterfaceXml(extensionPath: string, cancellable: Gio.Cancellable): Promise<string> {
  const file = Gio.File.new_for_path(`${extensionPath}/${INTERFACE_XML_PATH}`);
  return new Promise((resolve, reject) => {
    file.load_contents_async(cancellable, (_source, result) => {
      try {
        const [, contents] = file.load_contents_finish(result);
        resolve(new TextDecoder().decode(contents));
      } catch (error) {
        reject(error);
      }
    });
  });
}

export class ManagerClient {
  #proxy: ProxyWithMethods;
  #events: ManagerEvents;
  #cancellable: Gio.Cancellable;
  #handlerIds: number[];
  #closed = false;
  /** Calls whose reply has not come back; the proxy is disposed only once they have. */
  #inFlight = 0;

  private constructor(proxy: ProxyWithMethods, events: ManagerEvents, cancellable: Gio.Cancellable) {
    this.#proxy = proxy;
    this.#events = events;
    this.#cancellable = cancellable;
    this.#handlerIds = [
      proxy.connect("g-signal", (_proxy: Gio.DBusProxy, _sender: string | null, name: string, parameters: GLib.Variant) => {
        this.#events.signal(name, parameters.recursiveUnpack() as unknown[]);
      }),
      proxy.connect("g-properties-changed", () => this.#events.statusChanged(this.status)),
      proxy.connect("notify::g-name-owner", () => {
        this.#events.connectionChanged(this.connected);
        this.#events.statusChanged(this.status);
      }),
    ];
  }

  // Reads the interface XML and builds the proxy, both asynchronously. The daemon need not be
  // running: the proxy follows the name and reports when it comes. Cancel with `cancellable`.
  static async create(extensionPath: string, events: ManagerEvents, cancellable: Gio.Cancellable): Promise<ManagerClient> {
    const xml = await readInterfaceXml(extensionPath, cancellable);
    const Proxy = Gio.DBusProxy.makeProxyWrapper<Record<string, never>>(xml);
    const proxy = await new Promise<ProxyWithMethods>((resolve, reject) => {
      // The wrapper returns the proxy at once and initialises it asynchronously.
      const created: Gio.DBusProxy = Proxy(
        Gio.DBus.session,
        BUS_NAME,
        OBJECT_PATH,
        (initable, error) => {
          if (error || !initable) {
            // Cancelled or failed: let go of its match rules now, not at garbage collection.
            created.run_dispose();
            reject(error);
          } else {
            resolve(initable as unknown as ProxyWithMethods);
          }
        },
        cancellable,
        // Never start the daemon behind the user's back: only startDaemon() does.
        Gio.DBusProxyFlags.DO_NOT_AUTO_START,
      );
    });
    return new ManagerClient(proxy, events, cancellable);
  }

  get connected(): boolean {
    return !this.#closed && this.#proxy.g_name_owner !== null;
  }

  get status(): ManagerStatus {
    if (!this.connected) return EMPTY_STATUS;
    const properties: Dict = {};
    for (const name of STATUS_PROPERTIES) {
      const value = this.#proxy.get_cached_property(name);
      if (value) properties[name] = value.recursiveUnpack();
    }
    return parseStatus(properties);
  }

  // Calls a Manager method; resolves with its out arguments as plain values. After close() the
  // promise never settles, so no caller touches a torn-down view.
  #call(method: string, ...args: unknown[]): Promise<unknown[]> {
    return new Promise((resolve, reject) => {
      const done: RemoteCallback = (result, error) => {
        this.#settled();
        if (this.#closed) return;
        if (error) reject(error);
        else resolve((plain(result) as unknown[] | null) ?? []);
      };
      const remote = this.#proxy[`${method}Remote`];
      if (!remote) {
        reject(new Error(`${INTERFACE_NAME} has no method ${method}`));
        return;
      }
      this.#inFlight++;
      remote.call(this.#proxy, ...args, done, this.#cancellable);
    });
  }

  // A reply (or its cancellation) came back: after close(), the last one disposes the proxy.
  #settled(): void {
    this.#inFlight--;
    if (this.#closed && this.#inFlight === 0) this.#dispose();
  }

  // Drops the proxy's match rules on the bus now rather than whenever it is collected. Not while
  // a call is in flight: its reply handler still reads the proxy.
  #dispose(): void {
    this.#proxy.run_dispose();
  }

  async listProcesses(): Promise<ProcessRecord[]> {
    const [records] = await this.#call("ListProcesses");
    return dicts(records).map(parseProcess);
  }

  async listAnomalies(): Promise<AnomalyRecord[]> {
    const [records] = await this.#call("ListAnomalies");
    return dicts(records).map(parseAnomaly);
  }

  async listZombies(): Promise<ZombieRecord[]> {
    const [records] = await this.#call("ListZombies");
    return dicts(records).map(parseZombie);
  }

  async getCooldowns(): Promise<CooldownRecord[]> {
    const [records] = await this.#call("GetCooldowns");
    return dicts(records).map(parseCooldown);
  }

  async cleanupZombies(): Promise<{ reaped: number; remaining: number }> {
    const [reaped, remaining] = await this.#call("CleanupZombies");
    return { reaped: Number(reaped ?? 0), remaining: Number(remaining ?? 0) };
  }

  async startProcess(name: string): Promise<void> {
    await this.#call("StartProcess", name);
  }

  async stopProcess(name: string): Promise<void> {
    await this.#call("StopProcess", name);
  }

  async restartProcess(name: string): Promise<void> {
    await this.#call("RestartProcess", name);
  }

  async resetCooldown(name: string): Promise<void> {
    await this.#call("ResetCooldown", name);
  }

  // The effective policies, each key's value still a Variant so that SetPolicy can send back
  // keys the editor does not know with their exact types.
  getPolicies(): Promise<Map<string, Record<string, GLib.Variant>>> {
    return new Promise((resolve, reject) => {
      this.#inFlight++;
      this.#proxy.call("GetPolicies", null, Gio.DBusCallFlags.NONE, -1, this.#cancellable, (_proxy, result) => {
        if (this.#closed) {
          this.#settled();
          return;
        }
        try {
          const reply = this.#proxy.call_finish(result);
          const [policies] = reply.deepUnpack() as [Record<string, Record<string, GLib.Variant>>];
          resolve(new Map(Object.entries(policies)));
        } catch (error) {
          reject(error);
        } finally {
          this.#settled();
        }
      });
    });
  }

  // Creates or replaces a policy; `policy` is SetPolicy's a{sv}, config.toml's keys to Variants.
  async setPolicy(name: string, policy: Record<string, GLib.Variant>): Promise<void> {
    await this.#call("SetPolicy", name, policy);
  }

  async removePolicy(name: string): Promise<void> {
    await this.#call("RemovePolicy", name);
  }

  // Asks the bus to start the daemon (D-Bus activation: the .service file install.sh puts in
  // place starts selfheal.service).
  startDaemon(): Promise<void> {
    return new Promise((resolve, reject) => {
      const bus = this.#proxy.g_connection;
      bus.call(
        "org.freedesktop.DBus",
        "/org/freedesktop/DBus",
        "org.freedesktop.DBus",
        "StartServiceByName",
        new GLib.Variant("(su)", [BUS_NAME, 0]),
        new GLib.VariantType("(u)"),
        Gio.DBusCallFlags.NONE,
        -1,
        this.#cancellable,
        (_bus, result) => {
          if (this.#closed) return;
          try {
            bus.call_finish(result);
            resolve();
          } catch (error) {
            reject(error);
          }
        },
      );
    });
  }

  // Cancels calls in flight and lets go of the proxy; no event is reported afterwards.
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#cancellable.cancel();
    for (const id of this.#handlerIds) this.#proxy.disconnect(id);
    this.#handlerIds = [];
    if (this.#inFlight === 0) this.#dispose();
  }
}
