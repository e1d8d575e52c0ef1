// A client of the daemon's Manager interface, for the command line: calls by
// name with plain values back (variants unpacked, 64-bit integers as numbers),
// signals by subscription, and errors that say whether the daemon is there.
import { BusUnavailableError, connectBus, sessionBusAddress, type MessageBus } from "./connect.js";
import { DBusError, Message, MESSAGE_TYPE, Variant } from "./dbus.js";
import { BUS_NAME, DBUS_ERRORS, ERROR_PREFIX, MANAGER_INTERFACE, OBJECT_PATH, STANDARD_INTERFACES } from "./names.js";

/** How long a call may take before the client gives up (the D-Bus default). */
export const DEFAULT_CALL_TIMEOUT_MS = 25_000;

/** The daemon cannot be reached: no bus, or nothing owns io.github.SelfHeal1. */
export class DaemonUnreachableError extends Error {
  override readonly name = "DaemonUnreachableError";
}

/** The daemon answered with an error reply. */
export class DaemonError extends Error {
  override readonly name = "DaemonError";
  constructor(
    /** The full D-Bus error name. */
    readonly errorName: string,
    message: string,
  ) {
    super(message);
  }

  /** Our error's short name (UnknownProcess, Protected...), or the full D-Bus name of another. */
  get shortName(): string {
    return this.errorName.startsWith(ERROR_PREFIX) ? this.errorName.slice(ERROR_PREFIX.length) : this.errorName;
  }
}

const NOT_RUNNING =
  `the selfheal daemon is not running (nothing owns ${BUS_NAME} on the session bus). ` +
  `Start it with "systemctl --user start selfheal", or run "selfheal daemon".`;

// Unpack variants (and make 64-bit integers plain numbers when they fit) all the way down.
export function plain(value: unknown): unknown {
  if (value instanceof Variant) return plain(value.value);
  if (typeof value === "bigint") return Number.isSafeInteger(Number(value)) ? Number(value) : value;
  if (Array.isArray(value)) return value.map(plain);
  if (Buffer.isBuffer(value)) return value;
  if (value !== null && typeof value === "object") return Object.fromEntries(Object.entries(value).map(([key, inner]) => [key, plain(inner)]));
  return value;
}

// What a failed call means for the user.
function callError(error: unknown, member: string): Error {
  if (error instanceof DBusError) {
    const name = error.type;
    if (name === DBUS_ERRORS.serviceUnknown || name === DBUS_ERRORS.nameHasNoOwner) return new DaemonUnreachableError(NOT_RUNNING);
    if (name.startsWith("org.freedesktop.DBus.Error.Spawn")) return new DaemonUnreachableError(`the selfheal daemon could not be started by D-Bus activation: ${error.text}`);
    if (name === DBUS_ERRORS.noReply) return new DaemonUnreachableError(`the selfheal daemon did not answer ${member}: ${error.text}`);
    return new DaemonError(name, error.text || name);
  }
  return error instanceof Error ? error : new Error(String(error));
}

export interface ConnectOptions {
  env: NodeJS.ProcessEnv;
  timeoutMs?: number;
}

export class ManagerClient {
  private constructor(readonly bus: MessageBus) {}

  // Connect to the session bus (not yet to the daemon: the first call finds out whether it runs).
  static async connect(options: ConnectOptions): Promise<ManagerClient> {
    const address = sessionBusAddress(options.env);
    if (address === null) {
      throw new DaemonUnreachableError("no session bus found: DBUS_SESSION_BUS_ADDRESS is not set and $XDG_RUNTIME_DIR/bus does not exist");
    }
    try {
      return new ManagerClient(await connectBus(address, options.timeoutMs));
    } catch (error) {
      if (error instanceof BusUnavailableError) throw new DaemonUnreachableError(error.message);
      throw error;
    }
  }

  // Call a Manager method; resolves with the reply's arguments as plain values.
  async call(member: string, signature = "", body: unknown[] = [], timeoutMs = DEFAULT_CALL_TIMEOUT_MS): Promise<unknown[]> {
    return this.callOn(MANAGER_INTERFACE, member, signature, body, timeoutMs);
  }

  // The Manager's properties by name.
  async properties(): Promise<Record<string, unknown>> {
    const [all] = await this.callOn(STANDARD_INTERFACES.properties, "GetAll", "s", [MANAGER_INTERFACE]);
    return (all ?? {}) as Record<string, unknown>;
  }

  // Listen to one of the Manager's signals; resolves once the bus routes it to us.
  async onSignal(member: string, listener: (...args: unknown[]) => void): Promise<void> {
    await this.addMatch(`type='signal',sender='${BUS_NAME}',path='${OBJECT_PATH}',interface='${MANAGER_INTERFACE}',member='${member}'`);
    this.bus.on("message", (msg: Message) => {
      if (msg.type === MESSAGE_TYPE.signal && msg.interface === MANAGER_INTERFACE && msg.member === member && msg.path === OBJECT_PATH) listener(...(plain(msg.body) as unknown[]));
    });
  }

  // Learn when the daemon leaves the bus or comes back (its name changes owner).
  async onOwnerChanged(listener: (running: boolean) => void): Promise<void> {
    await this.addMatch(`type='signal',sender='org.freedesktop.DBus',interface='org.freedesktop.DBus',member='NameOwnerChanged',arg0='${BUS_NAME}'`);
    this.bus.on("message", (msg: Message) => {
      if (msg.type === MESSAGE_TYPE.signal && msg.member === "NameOwnerChanged" && msg.body[0] === BUS_NAME) listener(msg.body[2] !== "");
    });
  }

  close(): void {
    try {
      this.bus.disconnect();
    } catch {
      // already closed
    }
  }

  private async addMatch(rule: string): Promise<void> {
    await this.bus.call(
      new Message({ destination: "org.freedesktop.DBus", path: "/org/freedesktop/DBus", interface: "org.freedesktop.DBus", member: "AddMatch", signature: "s", body: [rule] }),
    );
  }

  private async callOn(iface: string, member: string, signature: string, body: unknown[], timeoutMs = DEFAULT_CALL_TIMEOUT_MS): Promise<unknown[]> {
    const message = new Message({ destination: BUS_NAME, path: OBJECT_PATH, interface: iface, member, signature, body });
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new DaemonUnreachableError(`the selfheal daemon did not answer ${member} within ${timeoutMs / 1000} s`)), timeoutMs);
    });
    try {
      const reply = await Promise.race([this.bus.call(message), timeout]);
      return plain(reply?.body ?? []) as unknown[];
    } catch (error) {
      throw callError(error, member);
    } finally {
      clearTimeout(timer);
    }
  }
}
