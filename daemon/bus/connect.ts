// Finding and connecting to the session bus, for the daemon and the command line alike.
import { existsSync } from "node:fs";
import { join } from "node:path";
import { connectionOf, openBus, type MessageBus } from "./dbus.js";

export type { MessageBus } from "./dbus.js";

/** How long to wait for the bus to accept the connection and say hello. */
export const CONNECT_TIMEOUT_MS = 10_000;

/** The bus cannot be reached: no address, or a socket that does not answer. */
export class BusUnavailableError extends Error {
  override readonly name = "BusUnavailableError";
}

// The session bus address: $DBUS_SESSION_BUS_ADDRESS, the address an activating
// bus passed down, or $XDG_RUNTIME_DIR/bus; null when there is none.
export function sessionBusAddress(env: NodeJS.ProcessEnv): string | null {
  if (env.DBUS_SESSION_BUS_ADDRESS) return env.DBUS_SESSION_BUS_ADDRESS;
  if (env.DBUS_STARTER_ADDRESS && env.DBUS_STARTER_BUS_TYPE === "session") return env.DBUS_STARTER_ADDRESS;
  const runtimeDir = env.XDG_RUNTIME_DIR;
  if (runtimeDir && existsSync(join(runtimeDir, "bus"))) return `unix:path=${join(runtimeDir, "bus")}`;
  return null;
}

// Connect and wait for the bus's hello; rejects with BusUnavailableError saying why.
export function connectBus(address: string, timeoutMs = CONNECT_TIMEOUT_MS): Promise<MessageBus> {
  return new Promise((resolve, reject) => {
    let bus: MessageBus;
    try {
      bus = openBus(address).bus;
    } catch (error) {
      reject(new BusUnavailableError(`cannot use the bus address ${address}: ${(error as Error).message}`));
      return;
    }
    const timer = setTimeout(() => fail(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
    const fail = (error: unknown): void => {
      clearTimeout(timer);
      bus.removeListener("connect", succeed);
      try {
        bus.disconnect();
      } catch {
        // already closed
      }
      const reason = error instanceof Error ? error.message : String(error);
      reject(new BusUnavailableError(`cannot connect to the session bus at ${address}: ${reason}`));
    };
    const succeed = (): void => {
      clearTimeout(timer);
      bus.removeListener("error", fail);
      resolve(bus);
    };
    bus.once("connect", succeed);
    bus.once("error", fail);
  });
}

// Call `listener` once when the connection to the bus closes.
export function onBusClosed(bus: MessageBus, listener: () => void): void {
  let called = false;
  const once = (): void => {
    if (called) return;
    called = true;
    listener();
  };
  const connection = connectionOf(bus);
  connection?.on("end", once);
  connection?.stream.on("close", once);
}
