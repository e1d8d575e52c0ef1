// Starts each program under a keeper of its own (keeper.c): the keeper is the
// program's parent and outlives the daemon, so the program's end is known
// whenever it comes, and a later daemon finds the program again. The keepers'
// records live in one folder ($XDG_RUNTIME_DIR/selfheal); a watcher on it
// wakes the daemon the moment a keeper writes. One keeper is always started
// ahead of need (a standby, waiting for its job on stdin), so that a restart
// costs the fork of a small process rather than the daemon's own fork and a
// keeper's exec.
import { spawn, type ChildProcess } from "node:child_process";
import { mkdirSync, readdirSync, readFileSync, rmSync, statSync, watch, type FSWatcher } from "node:fs";
import { join } from "node:path";
import type { Policy } from "../config/policy.js";
import type { ProcessProbe } from "../proc/probe.js";
import { startOptions, type ChildHandle, type RecoveredChild, type Spawner } from "../supervise/spawner.js";
import { KeeperHandle } from "./handle.js";
import { encodeJob } from "./job.js";
import { encodeTag, errnoName, parseRecord, RECORD_SUFFIX, type KeeperRecord, type ProcessId } from "./record.js";

export interface KeeperSpawnerOptions {
  /** The keeper executable. */
  keeperPath: string;
  /** The records' folder. */
  dir: string;
  baseEnv: NodeJS.ProcessEnv;
  probe: Pick<ProcessProbe, "isAlive">;
  /** This boot's id; records of another boot name PIDs that mean nothing now. */
  bootId?: string;
  now?: () => number;
}

/** A keeper's temporary file left by a keeper killed while writing: "PID-START.keeper.tmp" in WRITING_DIR, or ".PID-START.keeper.tmp" in the folder itself (keepers of earlier versions). */
const TEMP_FILE = /^\.?(\d+)-(\d+)\.keeper\.tmp$/;
/** The subfolder keepers write records in before renaming them into the folder (keeper.c): the folder's watch then wakes once per write. */
const WRITING_DIR = ".writing";
/** A record's name: "PID-START.keeper", its keeper's identity. */
const RECORD_FILE = /^(\d+)-(\d+)\.keeper$/;
/** The folder is the user's alone. */
const DIR_MODE = 0o700;
/** How long a record that no policy of this daemon names is kept once its program ended. */
const UNCLAIMED_RECORD_KEPT_MS = 24 * 60 * 60 * 1000;

/** A keeper process, and whether it still runs (a standby may die before it gets a job). */
interface Keeper {
  process: ChildProcess;
  alive: boolean;
}

/** How long a keeper may take to report the program started (it takes about a millisecond). */
const KEEPER_REPORT_TIMEOUT_MS = 10_000;

export class KeeperSpawner implements Spawner {
  private readonly handles = new Map<string, KeeperHandle>();
  private standby: Keeper | null = null;
  private closed = false;
  private readonly watcher: FSWatcher | null;
  private readonly bootId: string;
  private readonly startedAtMs: number;

  get recordsFolder(): string {
    return this.options.dir;
  }

  constructor(private readonly options: KeeperSpawnerOptions) {
    mkdirSync(options.dir, { recursive: true, mode: DIR_MODE });
    this.bootId = options.bootId ?? readBootId();
    this.startedAtMs = (options.now ?? Date.now)();
    this.watcher = this.watchFolder();
    this.prepareStandby();
  }

  // Hand the program to a keeper; resolves once the program runs (its PID real), rejects with why it could not start.
  spawn(policy: Policy): Promise<ChildHandle> {
    const [file] = policy.command;
    if (file === undefined) return Promise.reject(new Error(`policy ${policy.name} has an empty command`));
    const shown = policy.command.join(" ");
    const { cwd, env } = startOptions(policy, this.options.baseEnv);
    let job: Buffer;
    try {
      job = encodeJob({ tag: encodeTag(policy.name), cwd, env: Object.entries(env).flatMap(([key, value]) => (value === undefined ? [] : [`${key}=${value}`])), argv: policy.command });
    } catch (error) {
      return Promise.reject(new Error(`cannot start ${shown}: ${error instanceof Error ? error.message : String(error)}`));
    }
    const keeper = this.takeKeeper();
    const started = new Promise<ChildHandle>((resolve, reject) => {
      let output = "";
      let settled = false;
      // A keeper that says nothing (stopped, stuck) must not hold the start for ever: it is ended, the start fails.
      const silence = setTimeout(() => {
        fail(`its keeper (PID ${keeper.process.pid ?? "?"}) did not report within ${KEEPER_REPORT_TIMEOUT_MS / 1000} s`);
        keeper.process.kill("SIGKILL");
      }, KEEPER_REPORT_TIMEOUT_MS);
      const fail = (message: string): void => {
        if (settled) return;
        settled = true;
        clearTimeout(silence);
        reject(new Error(`cannot start ${shown}: ${message}`));
      };
      keeper.process.once("error", (error) => fail(`its keeper could not run (${error.message})`));
      // "close": after the keeper's output is read too, so its last word (an error line) is not lost to the exit.
      keeper.process.once("close", () => fail("its keeper ended before the program started"));
      keeper.process.stdout!.on("data", (chunk: Buffer) => {
        // One line is all a keeper says.
        if (settled) return;
        output += chunk.toString("utf8");
        const newline = output.indexOf("\n");
        if (newline < 0) return;
        const line = output.slice(0, newline);
        const [word, ...rest] = line.split(" ");
        if (word === "error") {
          const [errno, step] = [Number(rest[0]), rest[1]];
          const what = step === "chdir" ? `its folder ${cwd}` : step === "exec" ? `spawn ${file}` : `its keeper (${step})`;
          return fail(`${what} ${errnoName(errno)} (${rest.slice(2).join(" ")})`);
        }
        const [pid, startTicks, recordName] = [Number(rest[0]), Number(rest[1]), rest[2]];
        const record = recordName === undefined ? null : this.readRecord(recordName);
        if (word !== "started" || !(pid > 0) || !(startTicks >= 0) || recordName === undefined || record === null) {
          return fail(`its keeper said ${JSON.stringify(line)}`);
        }
        settled = true;
        clearTimeout(silence);
        // The record may already name a process the program forked away to: the handle tells that as a follow.
        const handle = this.track(recordName, record, { pid, startTicks });
        // The keeper is our child: its exit is one more reason to read the record (a missed notice costs nothing then).
        keeper.process.once("exit", () => handle.check());
        resolve(handle);
      });
    });
    // The keeper starts the program as soon as the job is whole (it carries its length), not when stdin closes.
    keeper.process.stdin!.end(job);
    // The next program's keeper gets ready once this one has started (a start then costs no exec of a keeper).
    void started.catch(() => undefined).finally(() => this.prepareStandby());
    return started;
  }

  // The programs of these policies that earlier daemons started and that no handle watches now.
  recover(names: ReadonlySet<string>): RecoveredChild[] {
    const recovered: RecoveredChild[] = [];
    this.dropDeadTemporaries(join(this.options.dir, WRITING_DIR));
    for (const name of this.listFolder()) {
      if (TEMP_FILE.test(name)) {
        this.dropDeadTemporaries(this.options.dir, name);
        continue;
      }
      if (!name.endsWith(RECORD_SUFFIX) || this.handles.get(name)?.isReleased === false) continue;
      const record = this.readRecord(name);
      if (record === null || record.boot !== this.bootId) {
        // Another boot's, or one this daemon cannot read: dropped, unless its keeper (named by the file) still runs it.
        const keeper = RECORD_FILE.exec(name);
        if (record === null && keeper !== null && this.options.probe.isAlive(Number(keeper[1]), Number(keeper[2]))) continue;
        console.error(`selfheal: dropping ${name}: not a keeper record of this boot that this daemon can read`);
        rmSync(join(this.options.dir, name), { force: true });
        continue;
      }
      const keeperAlive = this.options.probe.isAlive(record.keeper.pid, record.keeper.startTicks);
      if (!names.has(record.tag)) {
        // No policy of ours names it: a running program keeps its record (its policy may come back); an end or a dead
        // keeper's record is left for a day (another daemon sharing this folder, with another config, may own it), then dropped.
        if ((record.end !== null || !keeperAlive) && this.ageMs(name) > UNCLAIMED_RECORD_KEPT_MS) rmSync(join(this.options.dir, name), { force: true });
        continue;
      }
      const handle = this.track(name, record);
      if (!keeperAlive && record.end === null) handle.check();
      recovered.push({ name: record.tag, handle, running: record.end === null && keeperAlive });
    }
    return recovered;
  }

  // Stop watching the folder (at shutdown); the keepers and their programs run on, the standby keeper goes.
  close(): void {
    this.closed = true;
    this.watcher?.close();
    this.standby?.process.stdin?.end();
    this.standby = null;
  }

  // The standby keeper if it is still there, else a new one.
  private takeKeeper(): Keeper {
    const standby = this.standby;
    this.standby = null;
    return standby !== null && standby.alive ? standby : this.startKeeper();
  }

  private prepareStandby(): void {
    if (this.closed || this.standby !== null) return;
    this.standby = this.startKeeper();
  }

  // A keeper waiting for its job on stdin: no environment or folder of its own (the job brings the program's).
  private startKeeper(): Keeper {
    const child = spawn(this.options.keeperPath, [this.options.dir], { cwd: "/", env: {}, detached: true, stdio: ["pipe", "pipe", "ignore"] });
    const keeper: Keeper = { process: child, alive: true };
    const gone = (): void => {
      keeper.alive = false;
      if (this.standby === keeper) this.standby = null;
    };
    child.once("exit", gone);
    child.once("error", gone);
    // A keeper that died before reading its job: the write fails, and the start fails through "close".
    child.stdin!.on("error", () => undefined);
    return keeper;
  }

  private track(name: string, record: KeeperRecord, program?: ProcessId): KeeperHandle {
    const handle = new KeeperHandle(
      { probe: this.options.probe, daemonStartMs: this.startedAtMs, forget: (done) => this.handles.get(name) === done && this.handles.delete(name) },
      join(this.options.dir, name),
      record,
      program,
    );
    this.handles.set(name, handle);
    return handle;
  }

  // How long ago the record was last written (0 when it cannot be told).
  private ageMs(name: string): number {
    try {
      return (this.options.now ?? Date.now)() - statSync(join(this.options.dir, name)).mtimeMs;
    } catch {
      return 0;
    }
  }

  private readRecord(name: string): KeeperRecord | null {
    try {
      return parseRecord(readFileSync(join(this.options.dir, name), "utf8"));
    } catch {
      return null;
    }
  }

  private listFolder(dir: string = this.options.dir): string[] {
    try {
      return readdirSync(dir);
    } catch {
      return [];
    }
  }

  // Remove the temporary files in `dir` (all, or those named) whose keeper is gone: one killed while it wrote.
  private dropDeadTemporaries(dir: string, ...only: string[]): void {
    for (const name of only.length > 0 ? only : this.listFolder(dir)) {
      const temp = TEMP_FILE.exec(name);
      if (temp !== null && !this.options.probe.isAlive(Number(temp[1]), Number(temp[2]))) rmSync(join(dir, name), { force: true });
    }
  }

  // One inotify watch on the folder: a keeper's atomic rename wakes the handle it concerns at once.
  private watchFolder(): FSWatcher | null {
    try {
      const watcher = watch(this.options.dir, (_event, name) => {
        if (typeof name === "string") this.handles.get(name)?.check();
      });
      watcher.on("error", (error) => console.error(`selfheal: watching ${this.options.dir} failed (${error.message}); program ends are seen by the scans instead`));
      return watcher;
    } catch (error) {
      console.error(`selfheal: cannot watch ${this.options.dir} (${error instanceof Error ? error.message : String(error)}); program ends are seen by the scans instead`);
      return null;
    }
  }
}

// This boot's id, as the keepers write it.
export function readBootId(): string {
  try {
    return readFileSync("/proc/sys/kernel/random/boot_id", "utf8").trim();
  } catch {
    return "";
  }
}
