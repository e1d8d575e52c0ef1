// `selfheal daemon`: run the daemon in the foreground (what the systemd unit runs).
import { Daemon } from "../daemon.js";
import { join } from "node:path";
import { attachBusService, EXIT_NAME_TAKEN } from "../bus/attach.js";
import { stateDir } from "../config/paths.js";
import { DAEMON_LOG_NAME, FileLog } from "../log/fileLog.js";
import { plural } from "../words.js";

export interface DaemonCommandOptions {
  /** false runs without the D-Bus service (`--no-bus`). */
  bus?: boolean;
  /** false starts programs without keepers (`--no-keeper`). */
  keeper?: boolean;
  /** false takes the looks between scans in the daemon, without the sentinel process (`--no-sentinel`). */
  sentinel?: boolean;
  /** true logs to $XDG_STATE_HOME/selfheal/daemon.log instead of stderr (`--log-file`). */
  logFile?: boolean;
}

// The end of the run: SIGTERM or SIGINT (status 0), or the bus lost (status 1).
// Listening starts at once, so that a signal sent as soon as the daemon says
// it is ready never meets the default action.
function endOfRun(): { ended: Promise<number>; lost(reason: string): void } {
  let finish = (_status: number): void => undefined;
  const ended = new Promise<number>((resolve) => (finish = resolve));
  const stop = (signal: NodeJS.Signals): void => {
    console.error(`selfheal: ${signal} received, stopping; watched programs keep running`);
    finish(0);
  };
  process.once("SIGTERM", stop);
  process.once("SIGINT", stop);
  return {
    ended,
    lost(reason) {
      console.error(`selfheal: ${reason}; stopping, watched programs keep running`);
      finish(1);
    },
  };
}

// Take the bus name, then run until SIGTERM or SIGINT; then flush state and leave the user's programs running.
export async function runDaemonCommand(configPath: string, env: NodeJS.ProcessEnv, options: DaemonCommandOptions = {}): Promise<number> {
  if (options.logFile === true) new FileLog(join(stateDir(env), DAEMON_LOG_NAME)).captureStandardStreams();
  const run = endOfRun();
  const daemon = new Daemon({ configPath, env, keeper: options.keeper !== false, sentinel: options.sentinel !== false });
  const bus = options.bus === false ? null : await attachBusService(daemon, { env, onLost: (reason) => run.lost(reason) });
  if (bus?.status === "refused") {
    console.error(`selfheal: ${bus.message}`);
    return bus.nameTaken ? EXIT_NAME_TAKEN : 1;
  }
  if (bus?.status === "no-bus") console.error(`selfheal: ${bus.message}; running without the D-Bus service`);
  // A bug that escaped every handler is logged and recorded, never the end of the daemon.
  process.on("unhandledRejection", (reason) => daemon.reportEscapedError("unhandled rejection", reason));
  process.on("uncaughtException", (error) => daemon.reportEscapedError("uncaught exception", error));
  await daemon.start();
  console.error(`selfheal: watching ${plural(daemon.engine.list().length, "program", "programs")} (config ${configPath}, state ${daemon.stateDir})`);
  const status = await run.ended;
  await daemon.stop();
  return status;
}
