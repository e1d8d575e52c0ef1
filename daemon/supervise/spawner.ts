// Starts a policy's command as a child of the daemon: argv without a shell,
// with the desktop session's environment, in a session of its own so that it
// outlives a restart of the daemon.
import { spawn } from "node:child_process";
import { homedir } from "node:os";
import type { Policy } from "../config/policy.js";

export interface ChildHandle {
  pid: number;
  /** Called once when the child ends, with what the kernel reported. */
  onExit(listener: (code: number | null, signal: string | null) => void): void;
}

export interface Spawner {
  /** Starts the command; throws with a readable message when it cannot start. */
  spawn(policy: Policy): Promise<ChildHandle>;
}

/**
 * Set for the daemon alone by its #! line (build.mjs): the allocator setting
 * that lets it give memory back after large calls. Programs it starts get the
 * environment without it, as the session would have given it.
 */
export const DAEMON_ONLY_ENV_KEYS = ["MALLOC_MMAP_THRESHOLD_"];

export class ChildSpawner implements Spawner {
  private readonly baseEnv: NodeJS.ProcessEnv;

  constructor(baseEnv: NodeJS.ProcessEnv = process.env) {
    this.baseEnv = { ...baseEnv };
    for (const key of DAEMON_ONLY_ENV_KEYS) delete this.baseEnv[key];
  }

  // Resolves once the kernel has started the program (so its pid is real), and
  // rejects with the reason (ENOENT, EACCES...) when it could not.
  spawn(policy: Policy): Promise<ChildHandle> {
    const [file, ...args] = policy.command;
    if (file === undefined) return Promise.reject(new Error(`policy ${policy.name} has an empty command`));
    const child = spawn(file, args, {
      cwd: policy.cwd ?? homedir(),
      env: { ...this.baseEnv, ...policy.env },
      detached: true,
      stdio: "ignore",
    });
    // Listen for the exit from the start, so none is missed before onExit is called.
    let ended: [number | null, string | null] | null = null;
    let exitListener: ((code: number | null, signal: string | null) => void) | null = null;
    child.once("exit", (code, signal) => {
      ended = [code, signal];
      exitListener?.(code, signal);
    });
    return new Promise((resolve, reject) => {
      child.once("error", (error) => reject(new Error(`cannot start ${policy.command.join(" ")}: ${error.message}`)));
      child.once("spawn", () => {
        const pid = child.pid;
        if (pid === undefined) return reject(new Error(`cannot start ${policy.command.join(" ")}`));
        resolve({
          pid,
          onExit: (listener) => {
            exitListener = listener;
            if (ended !== null) listener(...ended);
          },
        });
      });
    });
  }
}
