// Put a daemon on the session bus (what `selfheal daemon` does before starting
// the engine): find the bus, read the interface XML, take the name.
import type { Daemon } from "../daemon.js";
import { BusUnavailableError, connectBus, sessionBusAddress } from "./connect.js";
import { loadManagerInterface } from "./introspection.js";
import { BusService, NameTakenError } from "./service.js";

/** `selfheal daemon`'s exit status when another daemon owns the name (the unit does not restart on it). */
export const EXIT_NAME_TAKEN = 3;

export type AttachResult =
  | { status: "attached"; service: BusService; address: string }
  /** No session bus to be found: the daemon may run without one. */
  | { status: "no-bus"; message: string }
  /** Another daemon owns the name, or the bus or the XML is unusable: the daemon must not start. */
  | { status: "refused"; message: string; nameTaken: boolean };

export interface AttachOptions {
  env: NodeJS.ProcessEnv;
  onLost?: (reason: string) => void;
}

// Connect, export the Manager and take io.github.SelfHeal1; adds the service to the daemon's adapters.
export async function attachBusService(daemon: Daemon, options: AttachOptions): Promise<AttachResult> {
  const address = sessionBusAddress(options.env);
  if (address === null) {
    return { status: "no-bus", message: "no session bus found (DBUS_SESSION_BUS_ADDRESS is not set and $XDG_RUNTIME_DIR/bus does not exist)" };
  }
  let spec;
  try {
    spec = loadManagerInterface();
  } catch (error) {
    return { status: "refused", message: (error as Error).message, nameTaken: false };
  }
  let bus;
  try {
    bus = await connectBus(address);
  } catch (error) {
    if (error instanceof BusUnavailableError) return { status: "refused", message: error.message, nameTaken: false };
    throw error;
  }
  const service = new BusService(daemon, bus, spec, { onLost: options.onLost });
  try {
    await service.start();
  } catch (error) {
    if (error instanceof NameTakenError) return { status: "refused", message: error.message, nameTaken: true };
    await service.stop();
    return { status: "refused", message: `cannot serve on the session bus: ${(error as Error).message}`, nameTaken: false };
  }
  daemon.addAdapter(service);
  return { status: "attached", service, address };
}
