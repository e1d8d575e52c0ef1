// The D-Bus glue: io.github.SelfHeal1.Manager as described by the interface XML the extension
// ships (a copy of dbus/io.github.SelfHeal1.Manager.xml, read asynchronously and parsed as it
// is), with typed calls, the daemon's signals and properties, and its coming and going.
//
// It subscribes on the session bus connection itself rather than through a Gio.DBusProxy: a
// proxy keeps its match rules on the bus until it is garbage-collected, whereas these
// subscriptions end in close(), so that disable() leaves nothing behind on the bus.
import { Gio, GLib } from "../gi/core.js";
import type { AnomalyRecord, CooldownRecord, Dict, ManagerStatus, ProcessRecord, ZombieRecord } from "../model/records.js";
import { EMPTY_STATUS, parseAnomaly, parseCooldown, parseProcess, parseStatus, parseZombie } from "../model/records.js";
import type { TrendSample } from "../model/trend.js";
import { decodeHistory } from "../model/trend.js";
import { parseVariantText, VariantTextError } from "./variantText.js";

export const BUS_NAME = "io.github.SelfHeal1";
export const OBJECT_PATH = "/io/github/SelfHeal1";
export const INTERFACE_NAME = "io.github.SelfHeal1.Manager";
/** The interface XML's place inside the extension's directory. */
export const INTERFACE_XML_PATH = "dbus/io.github.SelfHeal1.Manager.xml";

const PROPERTIES_INTERFACE = "org.freedesktop.DBus.Properties";

export interface ManagerEvents {
  /** The daemon appeared on the bus or left it. */
  connectionChanged(connected: boolean): void;
  /** One of the Manager's properties changed (or all of them, on connect and disconnect). */
  statusChanged(status: ManagerStatus): void;
  /** A Manager signal, its arguments unpacked to plain values. */
  signal(name: string, args: unknown[]): void;
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

// The signature of a method's in or out arguments as one tuple type, from the interface XML.
function argumentsType(args: Gio.DBusArgInfo[] | null): string {
  return `(${(args ?? []).map((arg) => arg.signature).join("")})`;
}

// A reply's values as recursiveUnpack() gives them, read from GLib's print of it (one call, not
// one per value); unpacked value by value if the print holds what parseVariantText does not read.
function unpackReply(reply: GLib.Variant): unknown {
  try {
    return parseVariantText(reply.print(false));
  } catch (error) {
    if (!(error instanceof VariantTextError)) throw error;
    return reply.recursiveUnpack();
  }
}

export class ManagerClient {
  #bus: Gio.DBusConnection;
  #info: Gio.DBusInterfaceInfo;
  #events: ManagerEvents;
  #cancellable: Gio.Cancellable;
  #watchId: number;
  #subscriptions: number[];
  #owner: string | null = null;
  #properties: Dict = {};
  #closed = false;

  private constructor(info: Gio.DBusInterfaceInfo, events: ManagerEvents, cancellable: Gio.Cancellable) {
    this.#bus = Gio.DBus.session;
    this.#info = info;
    this.#events = events;
    this.#cancellable = cancellable;
    this.#subscriptions = [
      this.#bus.signal_subscribe(BUS_NAME, INTERFACE_NAME, null, OBJECT_PATH, null, Gio.DBusSignalFlags.NONE, (...args) => {
        const [, , , , name, parameters] = args;
        if (!this.#closed) this.#events.signal(name, parameters.recursiveUnpack() as unknown[]);
      }),
      this.#bus.signal_subscribe(
        BUS_NAME,
        PROPERTIES_INTERFACE,
        "PropertiesChanged",
        OBJECT_PATH,
        INTERFACE_NAME,
        Gio.DBusSignalFlags.NONE,
        (...args) => this.#onPropertiesChanged(args[5]),
      ),
    ];
    // Follows the daemon's name: it may start later, stop, and come back.
    this.#watchId = Gio.bus_watch_name_on_connection(
      this.#bus,
      BUS_NAME,
      Gio.BusNameWatcherFlags.NONE,
      (_bus, _name, owner) => this.#onOwnerChanged(owner),
      () => this.#onOwnerChanged(null),
    );
  }

  // Reads and parses the interface XML asynchronously; the daemon need not be running. Cancel
  // with `cancellable`.
  static async create(extensionPath: string, events: ManagerEvents, cancellable: Gio.Cancellable): Promise<ManagerClient> {
    const xml = await readInterfaceXml(extensionPath, cancellable);
    const info = Gio.DBusNodeInfo.new_for_xml(xml).lookup_interface(INTERFACE_NAME);
    if (!info) throw new Error(`${INTERFACE_XML_PATH} does not describe ${INTERFACE_NAME}`);
    cancellable.set_error_if_cancelled();
    return new ManagerClient(info, events, cancellable);
  }

  get connected(): boolean {
    return !this.#closed && this.#owner !== null;
  }

  get status(): ManagerStatus {
    return this.connected ? parseStatus(this.#properties) : EMPTY_STATUS;
  }

  #onOwnerChanged(owner: string | null): void {
    if (this.#closed || owner === this.#owner) return;
    this.#owner = owner;
    this.#properties = {};
    this.#events.connectionChanged(this.connected);
    this.#events.statusChanged(this.status);
    if (owner !== null) void this.#loadProperties();
  }

  async #loadProperties(): Promise<void> {
    try {
      const [properties] = await this.#invoke(PROPERTIES_INTERFACE, "GetAll", new GLib.Variant("(s)", [INTERFACE_NAME]), "(a{sv})");
      if (this.#closed) return;
      this.#properties = { ...(properties as Dict) };
      this.#events.statusChanged(this.status);
    } catch (error) {
      if (!this.#closed && !isCancelled(error)) console.warn(`selfheal: cannot read the daemon's properties: ${errorMessage(error)}`);
    }
  }

  #onPropertiesChanged(parameters: GLib.Variant): void {
    if (this.#closed) return;
    const [, changed, invalidated] = parameters.recursiveUnpack() as [string, Dict, string[]];
    Object.assign(this.#properties, changed);
    if (invalidated.length > 0) void this.#loadProperties();
    this.#events.statusChanged(this.status);
  }

  // Calls a method of any interface of the daemon's object; resolves with its out arguments as
  // plain values (or, with `keepVariants`, unpacked one level). After close() the promise never
  // settles, so that no caller touches a torn-down view.
  #invoke(iface: string, method: string, parameters: GLib.Variant | null, replyType: string, keepVariants = false): Promise<unknown[]> {
    return this.#invokeForVariant(iface, method, parameters, replyType).then((reply) => (keepVariants ? reply.deepUnpack() : unpackReply(reply)) as unknown[]);
  }

  // The same, resolving with the reply as it came (a tuple Variant of the out arguments).
  #invokeForVariant(iface: string, method: string, parameters: GLib.Variant | null, replyType: string): Promise<GLib.Variant> {
    return new Promise((resolve, reject) => {
      this.#bus.call(
        BUS_NAME,
        OBJECT_PATH,
        iface,
        method,
        parameters,
        new GLib.VariantType(replyType),
        // Never start the daemon behind the user's back: only startDaemon() does.
        Gio.DBusCallFlags.NO_AUTO_START,
        -1,
        this.#cancellable,
        (_bus, result) => {
          if (this.#closed) return;
          try {
            resolve(this.#bus.call_finish(result));
          } catch (error) {
            reject(error);
          }
        },
      );
    });
  }

  // Calls a Manager method with the argument types the interface XML gives it.
  #call(method: string, args: unknown[] = [], keepVariants = false): Promise<unknown[]> {
    const info = this.#info.lookup_method(method);
    if (!info) return Promise.reject(new Error(`${INTERFACE_NAME} has no method ${method}`));
    const parameters = info.in_args && info.in_args.length > 0 ? new GLib.Variant(argumentsType(info.in_args), args) : null;
    return this.#invoke(INTERFACE_NAME, method, parameters, argumentsType(info.out_args), keepVariants);
  }

  // Calls a Manager method that returns one array of dicts, and parses each into a record.
  async #callForRecords<T>(method: string, parse: (dict: Dict) => T): Promise<T[]> {
    const [records] = await this.#call(method);
    return dicts(records).map(parse);
  }

  listProcesses(): Promise<ProcessRecord[]> {
    return this.#callForRecords("ListProcesses", parseProcess);
  }

  listAnomalies(): Promise<AnomalyRecord[]> {
    return this.#callForRecords("ListAnomalies", parseAnomaly);
  }

  listZombies(): Promise<ZombieRecord[]> {
    return this.#callForRecords("ListZombies", parseZombie);
  }

  getCooldowns(): Promise<CooldownRecord[]> {
    return this.#callForRecords("GetCooldowns", parseCooldown);
  }

  // One program's trend since `sinceUsec` (GetHistory): [time_usec, cpu_percent, rss_bytes] each,
  // read from the reply's bytes (decodeHistory: unpacking thousands of samples value by value
  // held the shell's main loop for seconds on a loaded machine).
  async getHistory(name: string, sinceUsec: number): Promise<TrendSample[]> {
    const reply = await this.#invokeForVariant(INTERFACE_NAME, "GetHistory", new GLib.Variant("(st)", [name, sinceUsec]), "(a(tdd))");
    return decodeHistory(reply.get_child_value(0).get_data_as_bytes().toArray());
  }

  async cleanupZombies(): Promise<{ reaped: number; remaining: number }> {
    const [reaped, remaining] = await this.#call("CleanupZombies");
    return { reaped: Number(reaped ?? 0), remaining: Number(remaining ?? 0) };
  }

  // A deliberate end of one zombie parent; the daemon refuses protected ones (Protected).
  async endZombieParent(ppid: number): Promise<{ reaped: number; remaining: number }> {
    const [reaped, remaining] = await this.#call("EndZombieParent", [ppid]);
    return { reaped: Number(reaped ?? 0), remaining: Number(remaining ?? 0) };
  }

  async startProcess(name: string): Promise<void> {
    await this.#call("StartProcess", [name]);
  }

  async stopProcess(name: string): Promise<void> {
    await this.#call("StopProcess", [name]);
  }

  async restartProcess(name: string): Promise<void> {
    await this.#call("RestartProcess", [name]);
  }

  async resetCooldown(name: string): Promise<void> {
    await this.#call("ResetCooldown", [name]);
  }

  // The effective policies, each key's value still a Variant so that SetPolicy can send back
  // keys the editor does not know with their exact types.
  async getPolicies(): Promise<Map<string, Record<string, GLib.Variant>>> {
    const [policies] = (await this.#call("GetPolicies", [], true)) as [Record<string, Record<string, GLib.Variant>>];
    return new Map(Object.entries(policies));
  }

  // Creates or replaces a policy; `policy` is SetPolicy's a{sv}, config.toml's keys to Variants.
  async setPolicy(name: string, policy: Record<string, GLib.Variant>): Promise<void> {
    await this.#call("SetPolicy", [name, policy]);
  }

  async removePolicy(name: string): Promise<void> {
    await this.#call("RemovePolicy", [name]);
  }

  // Back to config.toml: drops the policy's override and removal.
  async resetPolicy(name: string): Promise<void> {
    await this.#call("ResetPolicy", [name]);
  }

  // The names of config.toml's policies hidden by RemovePolicy.
  async hiddenPolicies(): Promise<string[]> {
    const [policies] = (await this.#call("GetHiddenPolicies")) as [Record<string, unknown>];
    return Object.keys(policies).sort();
  }

  // Asks the bus to start the daemon (D-Bus activation: the .service file install.sh puts in
  // place starts selfheal.service).
  startDaemon(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.#bus.call(
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
            this.#bus.call_finish(result);
            resolve();
          } catch (error) {
            reject(error);
          }
        },
      );
    });
  }

  // Cancels calls in flight and ends every subscription on the bus; no event is reported after.
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#cancellable.cancel();
    for (const id of this.#subscriptions) this.#bus.signal_unsubscribe(id);
    this.#subscriptions = [];
    Gio.bus_unwatch_name(this.#watchId);
    this.#watchId = 0;
  }
}
