// `selfheal daemon`: run the daemon in the foreground (what the systemd unit runs).
import { Daemon } from "../daemon.js";
import { attachBusService, EXIT_NAME_TAKEN } from "../bus/attach.js";

export interface DaemonCommandOptions {
  /** false runs without the D-Bus service (`--no-bus`). */
  bus?: boolean;
}

// Take the bus name, then run until SIGTERM or SIGINT; then flush state and leave the user's programs running.
export async function runDaemonCommand(configPath: string, env: NodeJS.ProcessEnv, options: DaemonCommandOptions = {}): Promise<number> {
  const daemon = new Daemon({ configPath, env });
  let onLost = (_reason: string): void => undefined;
  const bus = options.bus === false ? null : await attachBusService(daemon, { env, onLost: (reason) => onLost(reason) });
  if (bus?.status === "refused") {
    console.error(`selfheal: ${bus.message}`);
    return bus.nameTaken ? EXIT_NAME_TAKEN : 1;
  }
  if (bus?.status === "no-bus") console.error(`selfheal: ${bus.message}; running without the D-Bus service`);
  daemon.start();
  console.error(`selfheal: watching ${daemon.engine.list().length} programs (config ${configPath}, state ${daemon.stateDir})`);
  const status = await new Promise<number>((resolve) => {
    const stop = (signal: NodeJS.Signals): void => {
      console.error(`selfheal: ${signal} received, stopping; watched programs keep running`);
      resolve(0);
    };
    onLost = (reason) => {
      console.error(`selfheal: ${reason}; stopping, watched programs keep running`);
      resolve(1);
    };
    process.once("SIGTERM", stop);
    process.once("SIGINT", stop);
  });
  await daemon.stop();
  return status;
}
