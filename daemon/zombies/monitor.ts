// Keeps the zombie list of the latest scan, announces zombies that last, and
// cleans them up on request (CleanupZombies) or, when [zombies] cleanup is on,
// on a schedule. A zombie is announced once it has been seen for [zombies]
// min_age: most zombies live for a moment, until a parent about to reap them
// does, and telling of those would be a false alarm.
import type { ZombieSettings } from "../config/policy.js";
import type { Engine, Signaller } from "../engine/engine.js";
import type { ProcessSnapshot } from "../proc/types.js";
import { setTimeout as sleep } from "node:timers/promises";
import { normaliseZombies, RawZombiesSchema } from "../config/schema.js";
import { ProcScanner } from "../proc/scan.js";
import { EngineError } from "../engine/errors.js";
import { ProtectedError, SignalGuard } from "../safety/guard.js";
import { cleanupZombies, type CleanupOptions, type CleanupReport } from "./cleanup.js";
import { sigchldDisposition, type SigchldDisposition } from "./parentSignals.js";
import { findZombies, type ZombieInfo } from "./detect.js";
import { plural } from "../words.js";

export interface ZombieMonitorDeps {
  /** The SignalGuard; every signal of a cleanup goes through it. */
  signaller: Signaller;
  /** Why the guard would refuse to signal a process now, or null (the SignalGuard's reasonToRefuse). */
  refusal?(pid: number): string | null;
  /** A fresh scan of the process table. */
  rescan(): ProcessSnapshot;
  sleep?(ms: number): Promise<void>;
}

/** The built-in [zombies] settings, as an empty section gives them. */
export const DEFAULT_ZOMBIE_SETTINGS: ZombieSettings = normaliseZombies(RawZombiesSchema.parse({}));
const MS_PER_SEC = 1000;

export class ZombieMonitor {
  private zombies: ZombieInfo[] = [];
  /** The zombies (pid:startTicks) already announced and still there. */
  private announced = new Set<string>();
  /** When each zombie (pid:startTicks) was first seen, ms: young ones are not announced, nor touched by a scheduled cleanup. */
  private firstSeen = new Map<string, number>();
  private running: Promise<CleanupReport> | null = null;
  private lastScheduledMs: number | null = null;
  private readonly deps: Required<ZombieMonitorDeps>;

  constructor(
    private readonly engine: Engine,
    deps?: ZombieMonitorDeps,
  ) {
    const scanner = deps ? null : new ProcScanner();
    const guard = deps ? null : new SignalGuard();
    this.deps = {
      signaller: deps?.signaller ?? guard!,
      rescan: deps ? () => deps.rescan() : () => scanner!.scan(),
      sleep: deps?.sleep ?? ((ms) => sleep(ms)),
      refusal: deps?.refusal ?? ((pid) => guard?.reasonToRefuse(pid) ?? null),
    };
    engine.onScan((snapshot) => this.observe(snapshot));
  }

  list(): ZombieInfo[] {
    return this.zombies;
  }

  get count(): number {
    return this.zombies.length;
  }

  // Update the list from one scan; zombies that have now lasted min_age emit zombies-detected (once).
  observe(snapshot: ProcessSnapshot): void {
    this.zombies = findZombies(snapshot);
    this.rememberFirstSeen(snapshot);
    const settings = this.settings;
    const due = this.zombies.filter((zombie) => !this.announced.has(zombieKey(zombie)) && this.isOldEnough(zombie, snapshot.timeMs, settings));
    const dueKeys = new Set(due.map(zombieKey));
    this.announced = new Set(this.zombies.map(zombieKey).filter((key) => this.announced.has(key) || dueKeys.has(key)));
    const newPids = due.map((zombie) => zombie.pid);
    if (newPids.length > 0) {
      this.engine.events.emit({
        kind: "zombies-detected",
        timeMs: snapshot.timeMs,
        count: this.zombies.length,
        newPids,
        message: `${plural(newPids.length, "zombie process", "zombie processes")} left unreaped for ${settings.minAgeSec} s or more (${this.zombies.length} in all): ${this.zombies
          .filter((zombie) => newPids.includes(zombie.pid))
          .map((zombie) => `${zombie.name} (PID ${zombie.pid}, parent ${zombie.parentName || "?"} ${zombie.ppid})`)
          .join(", ")}`,
      });
    }
    this.maybeScheduledCleanup(snapshot.timeMs);
  }

  // CleanupZombies: ask every parent to reap, then end those that may be ended (per [zombies]); all zombies count.
  async cleanup(): Promise<{ reaped: number; remaining: number }> {
    const report = await this.run(false);
    return { reaped: report.reaped, remaining: report.remaining };
  }

  // What a parent of zombies does with SIGCHLD, and why the daemon would not end it ("" when it would).
  parentFacts(ppid: number): { sigchld: SigchldDisposition; protectedReason: string } {
    const name = this.zombies.find((zombie) => zombie.ppid === ppid)?.parentName ?? "";
    const reason = this.deps.refusal(ppid) ?? (this.settings.protectedNames.includes(name) ? `${name} is in [zombies] protected` : null);
    return { sigchld: sigchldDisposition(ppid), protectedReason: reason ?? "" };
  }

  // EndZombieParent: a deliberate end of one parent of zombies (asked to reap first, then SIGTERM, then
  // SIGKILL), whatever [zombies] kill_parents says, with the same protections as any cleanup.
  async endParent(ppid: number): Promise<{ reaped: number; remaining: number; ended: boolean }> {
    await this.idle();
    const snapshot = this.deps.rescan();
    const sample = snapshot.processes.get(ppid);
    // The guard first: PID 1, the session and other users are refused whatever they hold.
    const refusal = sample === undefined ? null : this.deps.refusal(ppid);
    if (refusal !== null && sample !== undefined) throw new ProtectedError(ppid, refusal);
    const held = findZombies(snapshot).filter((zombie) => zombie.ppid === ppid);
    if (sample === undefined || held.length === 0) {
      throw new EngineError(
        "UnknownProcess",
        sample === undefined ? `no process with PID ${ppid}` : `${sample.comm} (PID ${ppid}) has no zombie children; "selfheal zombies" lists the parents that do`,
      );
    }
    const name = held[0]!.parentName;
    if (this.settings.protectedNames.includes(name)) throw new ProtectedError(ppid, `${name} is in [zombies] protected`);
    const report = await this.run(false, { onlyParent: ppid });
    const spared = report.spared.find((parent) => parent.pid === ppid);
    if (spared !== undefined && report.reaped === 0) throw new ProtectedError(ppid, spared.reason);
    return { reaped: report.reaped, remaining: report.remaining, ended: report.ended.some((parent) => parent.pid === ppid) };
  }

  // Resolves once a cleanup under way (if any) is over.
  async idle(): Promise<void> {
    await this.running?.catch(() => undefined);
  }

  private get settings(): ZombieSettings {
    return this.engine.activeConfig.zombies ?? DEFAULT_ZOMBIE_SETTINGS;
  }

  // The scheduled cleanup, when enabled and due, and only when there is something to clean.
  private maybeScheduledCleanup(nowMs: number): void {
    const settings = this.settings;
    if (!settings.cleanup) {
      this.lastScheduledMs = null;
      return;
    }
    if (this.lastScheduledMs === null) this.lastScheduledMs = nowMs;
    if (this.running || nowMs - this.lastScheduledMs < settings.cleanupIntervalSec * MS_PER_SEC) return;
    this.lastScheduledMs = nowMs;
    if (!this.zombies.some((zombie) => this.isOldEnough(zombie, nowMs, settings))) return;
    this.run(true).catch((error: unknown) => console.error("selfheal: the scheduled zombie cleanup failed:", error));
  }

  // One cleanup at a time: a request during one shares its outcome (one parent's end waits for it in endParent).
  private run(scheduled: boolean, target: { onlyParent?: number } = {}): Promise<CleanupReport> {
    if (this.running) return this.running;
    const settings = this.settings;
    const { onlyParent } = target;
    let select: CleanupOptions["select"];
    if (onlyParent !== undefined) select = (zombie) => zombie.ppid === onlyParent;
    else if (scheduled) select = (zombie, snapshot) => this.isOldEnough(zombie, snapshot.timeMs, settings);
    const running = cleanupZombies(
      { ...this.deps, endWatched: (pid) => this.restartWatched(pid) },
      {
        killParents: onlyParent !== undefined || settings.killParents,
        protectedNames: settings.protectedNames,
        reapWaitMs: settings.reapWaitSec * MS_PER_SEC,
        select,
      },
    ).then((report) => {
      this.zombies = findZombies(report.snapshot);
      this.engine.events.emit({
        kind: "zombies-cleaned",
        timeMs: report.snapshot.timeMs,
        reaped: report.reaped,
        remaining: report.remaining,
        message: describe(report, onlyParent !== undefined ? "ending a zombie parent on request" : scheduled ? "scheduled zombie cleanup" : "zombie cleanup"),
      });
      return report;
    });
    this.running = running;
    void running.finally(() => {
      if (this.running === running) this.running = null;
    }).catch(() => undefined);
    return running;
  }

  // A parent that is a policy's program is restarted through the engine rather than ended.
  private restartWatched(pid: number): boolean {
    const unit = this.engine.list().find((view) => view.pid === pid);
    if (!unit) return false;
    this.engine.actOn(unit.name, "restart", "anomaly").catch((error: unknown) => {
      console.error(`selfheal: restarting ${unit.name} to reap its zombies failed: ${error instanceof Error ? error.message : String(error)}`);
    });
    return true;
  }

  private isOldEnough(zombie: ZombieInfo, nowMs: number, settings: ZombieSettings): boolean {
    const seen = this.firstSeen.get(zombieKey(zombie));
    return seen !== undefined && nowMs - seen >= settings.minAgeSec * MS_PER_SEC;
  }

  // Remember when each zombie was first seen; forget those gone.
  private rememberFirstSeen(snapshot: ProcessSnapshot): void {
    const next = new Map<string, number>();
    for (const zombie of this.zombies) {
      const key = zombieKey(zombie);
      next.set(key, this.firstSeen.get(key) ?? snapshot.timeMs);
    }
    this.firstSeen = next;
  }
}

// Names one zombie for good: a pid alone may be reused.
function zombieKey(zombie: ZombieInfo): string {
  return `${zombie.pid}:${zombie.startTicks}`;
}

// The event's sentence: what was reaped, what was done, what remains and why.
function describe(report: CleanupReport, what: string): string {
  const parts = [`${what}: ${report.reaped} reaped, ${report.remaining} remaining`];
  if (report.asked > 0) parts.push(`asked ${plural(report.asked, "parent", "parents")} to reap`);
  if (report.ended.length > 0) parts.push(`ended ${report.ended.map((parent) => `${parent.name} (PID ${parent.pid})`).join(", ")}`);
  if (report.spared.length > 0) parts.push(`left alone ${report.spared.map((parent) => `${parent.name || "?"} (PID ${parent.pid}: ${parent.reason})`).join(", ")}`);
  return parts.join("; ");
}
