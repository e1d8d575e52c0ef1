// `selfheal daemon`: run the daemon in the foreground (what the systemd unit runs).
import { Daemon } from "../daemon.js";

// Run until SIGTERM or SIGINT; then flush state and leave the user's programs running.
export async function runDaemonCommand(configPath: string, env: NodeJS.ProcessEnv): Promise<number> {
  const daemon = new Daemon({ configPath, env });
  daemon.start();
  console.error(`selfheal: watching ${daemon.engine.list().length} programs (config ${configPath}, state ${daemon.stateDir})`);
  await new Promise<void>((resolve) => {
    const stop = (signal: NodeJS.Signals): void => {
      console.error(`selfheal: ${signal} received, stopping; watched programs keep running`);
      resolve();
    };
    process.once("SIGTERM", stop);
    process.once("SIGINT", stop);
  });
  await daemon.stop();
  return 0;
}
