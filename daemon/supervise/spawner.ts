// Starts a policy's command: the port the engine starts programs through, and
// its simplest adapter, which makes the program a child of the daemon itself
// (argv without a shell, the desktop session's environment, a session of its
// own so that it outlives a restart of the daemon). The keeper adapter
// (keeper/spawner.ts) puts a keeper process between them instead.
import { spawn } from "node:child_process";
import { homedir } from "node:os";
import type { Policy } from "../config/policy.js";
import type { ExitDetails } from "./exit.js";

export type ExitListener = (code: number | null, signal: string | null, details?: ExitDetails) => void;

export interface ChildHandle {
  /** The program's PID: the PID users see, and the one the daemon signals. Changes when a keeper follows a fork. */
  readonly pid: number;
  /** The program's start time in clock ticks when the spawner read it (a keeper does); otherwise the next scan tells. */
  readonly startTicks?: number;
  /** The keeper's PID while a keeper holds the program (it is the program's parent); undefined for a direct child. */
  readonly keeperPid?: number;
  /** Called once when the program ends, with what the kernel reported. */
  onExit(listener: ExitListener): void;
  /** The program exited 0 and left `pid` running (it forked away): that process is the program now, and its end will be known. */
  onFollow?(listener: (pid: number, startTicks: number, fromPid: number) => void): void;
  /** The keeper is gone without recording an end: from now on the program's exit status cannot be known. */
  onLost?(listener: (reason: string) => void): void;
  /** Look again now (a scan saw the program gone, or with another parent): any change is told through the listeners. */
  check?(): void;
  /** The daemon no longer acts on this program (its policy was removed): nothing more is told; the program runs on. */
  release?(): void;
}

/** A program an earlier run of the daemon started, found again through its keeper. */
export interface RecoveredChild {
  /** The name of the policy it was started for. */
  name: string;
  handle: ChildHandle;
  /** False when it ended while no daemon was running, or its keeper is gone: the handle tells which as soon as it is listened to. */
  running: boolean;
}

export interface Spawner {
  /** Starts the command; throws with a readable message when it cannot start. */
  spawn(policy: Policy): Promise<ChildHandle>;
  /** The programs of these policies that an earlier run of the daemon started and that are not watched now (none without keepers). */
  recover?(names: ReadonlySet<string>): RecoveredChild[];
  /** The folder this daemon's keepers keep their records in (a keeper's first argument); none without keepers. */
  readonly recordsFolder?: string;
}

/**
 * Set for the daemon alone by its #! line (build.mjs): the allocator setting
 * that lets it give memory back after large calls. Programs it starts get the
 * environment without it, as the session would have given it.
 */
export const DAEMON_ONLY_ENV_KEYS = ["MALLOC_MMAP_THRESHOLD_"];

// The command's start options shared by both spawners: its folder and its environment.
export function startOptions(policy: Policy, baseEnv: NodeJS.ProcessEnv): { cwd: string; env: NodeJS.ProcessEnv } {
  return { cwd: policy.cwd ?? homedir(), env: { ...baseEnv, ...policy.env } };
}

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
    const child = spawn(file, args, { ...startOptions(policy, this.baseEnv), detached: true, stdio: "ignore" });
    // Listen for the exit from the start, so none is missed before onExit is called.
    let ended: [number | null, string | null] | null = null;
    let exitListener: ExitListener | null = null;
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
