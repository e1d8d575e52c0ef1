// The lookout as a small process of its own (sentinel.c): the daemon tells it
// what to watch over its stdin and hears on its stdout only what trips, so
// that Node.js is not woken ten times a second for looks that find nothing.
// If it ends, it is started again and told everything anew (a watched PID that
// ended meanwhile is told as ended at once); if it cannot start, or ends again
// and again, the engine is told (failed) and takes the looks itself. Each
// reason is logged here.
import { spawn, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";
import type { Lookout, LookoutReports, LookoutWatch } from "../engine/ports.js";
import { locateBuilt } from "../native/locate.js";
import { linesFor, nothingTold, parseReport } from "./lines.js";
import { SENTINEL_NAME } from "./name.js";

export interface SentinelProcessOptions {
  /** The sentinel executable. */
  path: string;
  /** Extra arguments (`--signal-probe`). */
  args?: string[];
  /** A line for the daemon's log. */
  log(line: string): void;
}

/** What the daemon does without the sentinel, for the log lines that say so. */
export const WITHOUT_SENTINEL = "the daemon takes its looks between scans itself (100 ms timer; more CPU at rest)";

// The sentinel executable beside the daemon (or in dist/ from the sources), or why there is none.
export function locateSentinel(besideFile: string = fileURLToPath(import.meta.url)): { path: string } | { problem: string } {
  const location = locateBuilt(SENTINEL_NAME, besideFile);
  if ("path" in location) return location;
  return { problem: `${location.missing} is missing (it is compiled by npm run build and install.sh, which need a C compiler: apt install gcc libc6-dev); ${WITHOUT_SENTINEL}` };
}

/** Ends of the sentinel, within a minute, after which it is started again; one more and the daemon takes the looks itself. */
export const SENTINEL_RESTARTS_PER_MINUTE = 3;
const MINUTE_MS = 60_000;

export class SentinelProcess implements Lookout {
  private child: ChildProcess | null = null;
  private reports: LookoutReports | null = null;
  private told = nothingTold();
  /** A line of stdout not whole yet. */
  private partial = "";
  /** Stopped, or failed: nothing more is written or told. */
  private over = false;
  private readonly syncs = new Map<string, () => void>();
  private syncCount = 0;
  /** What it was last asked to watch: told again in full to a sentinel started again. */
  private lastWhat: LookoutWatch | null = null;
  /** When it was started again (ms), for the limit a minute. */
  private restarts: number[] = [];

  constructor(private readonly options: SentinelProcessOptions) {}

  start(reports: LookoutReports): void {
    this.reports = reports;
    this.run();
  }

  private run(): void {
    const child = spawn(this.options.path, this.options.args ?? [], { stdio: ["pipe", "pipe", "pipe"] });
    this.child = child;
    // Only the sentinel now running is heard: the end of one started before is told once.
    const current = (): boolean => this.child === child;
    child.once("error", (error) => current() && this.fail(`could not run ${this.options.path}: ${error.message}`));
    child.once("exit", (code, signal) => current() && this.ended(`${this.options.path} ended (${signal ?? `exit code ${code}`})`));
    // A write to a sentinel that just ended: its exit tells.
    child.stdin!.on("error", () => undefined);
    child.stdout!.setEncoding("latin1").on("data", (chunk: string) => current() && this.read(chunk));
    child.stderr!.setEncoding("utf8").on("data", (chunk: string) => {
      for (const line of chunk.split("\n")) if (line !== "") this.options.log(`selfheal: sentinel: ${line}`);
    });
  }

  // It ended while the daemon runs: started again, a few times a minute at most.
  private ended(reason: string): void {
    if (this.over) return;
    const now = Date.now();
    this.restarts = this.restarts.filter((at) => now - at < MINUTE_MS);
    if (this.restarts.length >= SENTINEL_RESTARTS_PER_MINUTE) {
      this.fail(reason);
      return;
    }
    this.restarts.push(now);
    this.options.log(`selfheal: sentinel: ${reason}; started again (${this.restarts.length} of ${SENTINEL_RESTARTS_PER_MINUTE} in a minute)`);
    this.settleSyncs();
    this.told = nothingTold();
    this.partial = "";
    this.run();
    if (this.lastWhat !== null) this.watch(this.lastWhat);
  }

  watch(what: LookoutWatch): void {
    this.lastWhat = what;
    if (this.over || this.child === null) return;
    const lines = linesFor(this.told, what);
    if (lines.length > 0) this.child.stdin!.write(`${lines.join("\n")}\n`);
  }

  // Resolves once the sentinel has taken a look after everything written so far (tests and benchmarks).
  sync(): Promise<void> {
    if (this.over || this.child === null) return Promise.resolve();
    const token = `s${++this.syncCount}`;
    this.child.stdin!.write(`sync ${token}\n`);
    return new Promise((resolve) => this.syncs.set(token, resolve));
  }

  /** The sentinel's PID, while it runs. */
  get pid(): number | undefined {
    return this.over ? undefined : this.child?.pid;
  }

  // The end of its stdin ends the sentinel.
  stop(): void {
    this.over = true;
    this.child?.stdin?.end();
    this.settleSyncs();
  }

  private read(chunk: string): void {
    const lines = (this.partial + chunk).split("\n");
    this.partial = lines.pop() ?? "";
    for (const line of lines) {
      const report = parseReport(line);
      if (report === null) {
        this.options.log(`selfheal: sentinel: an unknown report: ${JSON.stringify(line.slice(0, 80))}`);
        continue;
      }
      if (this.over) continue;
      switch (report.kind) {
        case "forks":
          this.reports?.forks(report.count);
          break;
        case "ended":
          // The sentinel watches it no more.
          this.told.ends.delete(report.pid);
          this.reports?.ended(report.pid);
          break;
        case "over":
          this.reports?.overLimit(report.pid, report.rssBytes);
          break;
        case "synced":
          this.syncs.get(report.token)?.();
          this.syncs.delete(report.token);
          break;
        case "ready":
          break;
      }
    }
  }

  private fail(reason: string): void {
    if (this.over) return;
    this.over = true;
    this.child?.stdin?.end();
    this.settleSyncs();
    this.options.log(`selfheal: sentinel: ${reason}; ${WITHOUT_SENTINEL} from now on`);
    this.reports?.failed(reason);
  }

  private settleSyncs(): void {
    for (const resolve of this.syncs.values()) resolve();
    this.syncs.clear();
  }
}
