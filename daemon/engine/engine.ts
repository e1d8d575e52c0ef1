// The engine: one /proc scan per tick, the policies applied to it, and the
// actions that follow (start, restart, stop, kill), each told as a typed event.
// It knows nothing of D-Bus, email or GNOME: adapters subscribe to its events.
// This class keeps the wiring and the public API; the life cycle (lifecycle.ts),
// adoption (adoption.ts) and limits (limits.ts) live in modules of their own.
import type { Config } from "../config/policy.js";
import type { ProcessSnapshot } from "../proc/types.js";
import { CooldownTracker } from "../cooldown/tracker.js";
import { unknownExit } from "../supervise/exit.js";
import { claimedPids, currentProcesses, learnIdentities, letGo, mayAdopt, tryAdopt } from "./adoption.js";
import { InternalErrors, MS_PER_SEC, type EngineContext } from "./context.js";
import { EngineError, unknownProcess } from "./errors.js";
import { EventHub, type EngineEvent, type StartReason } from "./events.js";
import { Lifecycle } from "./lifecycle.js";
import { Limits } from "./limits.js";
import type { EngineDeps, LookoutWatch, WatchedEnd } from "./ports.js";
import { reattach } from "./reattach.js";
import { AdoptedEnds } from "./sentinels/adoptedEnds.js";
import { FORK_SURGE_PER_LOOK, ForkSurge } from "./sentinels/forkSurge.js";
import { LookoutLink } from "./sentinels/lookout.js";
import { MEMORY_DROP_FRACTION, MemoryDrop } from "./sentinels/memoryDrop.js";
import { SentinelWatch } from "./sentinels/watch.js";
import { newUnit, releaseHeldEnd, type Unit, type UnitView } from "./unit.js";

/** Events after which other processes run than before: the lookout is told at once, not at the next scan. */
const PROCESSES_CHANGED: ReadonlySet<EngineEvent["kind"]> = new Set(["started", "adopted", "reattached", "followed", "restarted", "exited", "crashed", "stopped"]);

export type { CooldownStore, EngineDeps, Guard, Signaller } from "./ports.js";
export type { UnitState, UnitView } from "./unit.js";

/**
 * Sees a scan once the engine has applied its policies, with the units as that scan left them
 * (engine.list(), taken once for all the observers of the scan: they must not change it).
 */
export type ScanObserver = (snapshot: ProcessSnapshot, views: readonly UnitView[]) => void;

export class Engine {
  readonly events = new EventHub();
  private readonly units = new Map<string, Unit>();
  private readonly cooldown: CooldownTracker;
  private readonly scanObservers = new Set<ScanObserver>();
  private readonly surgeObservers = new Set<(forks: number) => void>();
  private readonly ctx: EngineContext;
  private readonly lifecycle: Lifecycle;
  private readonly limits: Limits;
  private config: Config;
  private tickTimer: { cancel(): void } | null = null;
  /** Small looks between scans, every 100 ms (see sentinels/), when no lookout takes them (or once it failed). */
  private readonly sentinels: SentinelWatch;
  /** The looks between scans outside the event loop (the sentinel process), when the daemon has one. */
  private readonly lookout: LookoutLink | null;
  private snapshot: ProcessSnapshot | null = null;
  private running = false;
  private shutdownBegun = false;

  constructor(
    private readonly deps: EngineDeps,
    config: Config,
  ) {
    this.config = config;
    this.cooldown = new CooldownTracker(deps.cooldownStore.load());
    this.ctx = {
      deps,
      units: this.units,
      cooldown: this.cooldown,
      uid: deps.uid ?? process.getuid?.() ?? 0,
      snapshot: () => this.snapshot,
      config: () => this.config,
      shuttingDown: () => this.shutdownBegun,
      emit: (event) => this.events.emit(event),
      internalError: (where, error) => internalErrors.report(where, error),
    };
    const internalErrors = new InternalErrors(this.ctx);
    this.lifecycle = new Lifecycle(this.ctx);
    this.limits = new Limits(this.ctx, this.lifecycle);
    this.sentinels = new SentinelWatch(deps.clock, (where, error) => this.ctx.internalError(where, error));
    this.sentinels.add(
      new AdoptedEnds({
        units: () => this.units.values(),
        exists: (pid) => deps.probe.exists(pid),
        ended: (unit) => this.lifecycle.onEnded(unit, unknownExit()),
      }),
    );
    const counters = deps.counters;
    this.sentinels.add(
      new MemoryDrop({
        availableMemoryBytes: () => counters?.availableMemoryBytes() ?? null,
        smallestLimitBytes: () => this.limits.smallestMemoryLimit(),
        check: (all) => this.limits.checkMemory(all),
      }),
    );
    if (counters) this.sentinels.add(new ForkSurge({ forksSinceBoot: () => counters.forksSinceBoot(), surged: (forks) => this.tellSurge(forks) }));
    this.lookout = deps.lookout
      ? new LookoutLink(deps.lookout, {
          what: () => this.lookoutWatch(),
          forks: (count) => this.tellSurge(count),
          ended: (pid) => this.adoptedEnded(pid),
          overLimit: (pid) => this.limits.checkMemoryOf(pid),
          fallBack: () => {
            if (this.running) this.sentinels.start();
          },
          report: (where, error) => this.ctx.internalError(where, error),
        })
      : null;
    if (this.lookout) {
      const lookout = this.lookout;
      this.events.subscribe((event) => {
        if (PROCESSES_CHANGED.has(event.kind)) lookout.refresh();
      });
    }
    for (const policy of config.policies.values()) this.units.set(policy.name, newUnit(policy));
  }

  // Resume persisted cooldowns, take back the programs an earlier run started
  // (through their keepers), take the first scan, adopt what already runs and
  // start the autostart programs; then scan every interval.
  // Resolves once the autostart programs have started (or failed to).
  start(): Promise<void> {
    this.running = true;
    const now = this.deps.clock.now();
    for (const unit of this.units.values()) this.lifecycle.resumeCooldown(unit, now);
    reattach(this.ctx, this.lifecycle, this.deps.spawner.recover?.(new Set(this.units.keys())) ?? []);
    // The lookout is told what to watch after each scan, the first one's included.
    this.lookout?.start();
    this.tick();
    const launches: Array<Promise<void>> = [];
    // Not a unit whose program's end was just learned from its keeper (ended while no daemon ran): that end was acted on per its policy.
    for (const unit of this.units.values()) {
      if (unit.policy.autostart && unit.pid === 0 && unit.state === "stopped" && !unit.starting) launches.push(this.lifecycle.launchDetached(unit, "autostart", 0));
    }
    this.scheduleTick();
    if (!this.lookout) this.sentinels.start();
    return Promise.allSettled(launches).then(() => undefined);
  }

  // Stop scanning and cancel every timer; the programs are left running. From
  // here on nothing is started: a program that ends now is told, not restarted.
  shutdown(): void {
    this.running = false;
    this.shutdownBegun = true;
    this.tickTimer?.cancel();
    this.sentinels.stop();
    this.lookout?.stop();
    this.limits.cancelConfirmations();
    for (const unit of this.units.values()) this.lifecycle.cancelTimers(unit);
    try {
      this.deps.cooldownStore.saveSync(this.cooldown.toJSON());
    } catch (error) {
      console.error(`selfheal: could not save the cooldown state: ${error instanceof Error ? error.message : String(error)}`);
    }
  }

  /** Observers see every scan after the engine has applied its policies (anomaly and zombie checks). */
  onScan(observer: ScanObserver): () => void {
    this.scanObservers.add(observer);
    return () => this.scanObservers.delete(observer);
  }

  /** Observers hear of a surge of forks between scans, with its count (the fork-bomb detector may then look at once). */
  onForkSurge(observer: (forks: number) => void): () => void {
    this.surgeObservers.add(observer);
    return () => this.surgeObservers.delete(observer);
  }

  // What the lookout is to watch now: the fork counter, the memory limits in force, the adopted programs' ends.
  private lookoutWatch(): LookoutWatch {
    const smallest = this.limits.smallestMemoryLimit();
    const ends: WatchedEnd[] = [];
    for (const unit of this.units.values()) {
      // Our own children's ends come from their keeper or exit event; an adopted one is known by start time from its scan.
      if (unit.pid !== 0 && !unit.managed && unit.startTicks >= 0) ends.push({ pid: unit.pid, startTicks: unit.startTicks });
    }
    return {
      forksPerSurge: FORK_SURGE_PER_LOOK,
      memoryDropBytes: smallest === null ? 0 : smallest * MEMORY_DROP_FRACTION,
      ends,
      memory: this.limits.memoryWatch(),
    };
  }

  // The lookout saw an adopted program's process end: told now, not at the next scan (as the AdoptedEnds sentinel does).
  private adoptedEnded(pid: number): void {
    for (const unit of this.units.values()) {
      // A stop under way polls on its own; a start under way is not the process that ended.
      if (unit.pid === pid && !unit.managed && unit.stopping === null && !unit.starting) this.lifecycle.onEnded(unit, unknownExit());
    }
  }

  private tellSurge(forks: number): void {
    for (const observer of this.surgeObservers) {
      try {
        observer(forks);
      } catch (error) {
        this.ctx.internalError("looking for a fork bomb after a surge of forks", error);
      }
    }
  }

  get lastSnapshot(): ProcessSnapshot | null {
    return this.snapshot;
  }

  /** The daemon's own PID in the tables scanned (the detectors never count it in a tree). */
  get selfPid(): number {
    return this.deps.source.selfPid;
  }

  /** The configuration in force (the detectors read their sections and each policy's thresholds from it). */
  get activeConfig(): Config {
    return this.config;
  }

  // One scan of /proc and every policy applied to it. The watched programs are its focus: their
  // trees are read afresh; the source may carry the rest of the table over for a few scans.
  tick(): ProcessSnapshot {
    const previous = this.snapshot;
    const claimed = claimedPids(this.units);
    const snapshot = this.deps.source.scan(claimed);
    this.snapshot = snapshot;
    for (const unit of this.units.values()) {
      // One policy's fault must not keep the others from being checked.
      try {
        if (unit.pid === 0 && mayAdopt(unit)) tryAdopt(this.ctx, unit, snapshot, claimed);
        if (unit.pid !== 0) this.checkRunning(unit, snapshot);
      } catch (error) {
        this.ctx.internalError(`checking ${unit.policy.name}`, error);
      }
    }
    try {
      learnIdentities(this.ctx, snapshot, previous, this.config.settings.intervalSec * MS_PER_SEC);
    } catch (error) {
      this.ctx.internalError("reading the processes' command lines", error);
    }
    // One list of the units for every observer of this scan (the detectors, the history), not one each.
    const views = this.scanObservers.size > 0 ? this.list() : [];
    for (const observer of this.scanObservers) {
      try {
        observer(snapshot, views);
      } catch (error) {
        this.ctx.internalError("checking a scan (anomalies, zombies)", error);
      }
    }
    this.lookout?.refresh();
    return snapshot;
  }

  list(): UnitView[] {
    const now = this.deps.clock.now();
    const views: UnitView[] = [];
    for (const unit of this.units.values()) views.push(this.view(unit, now));
    return views;
  }

  get(name: string): UnitView {
    return this.view(this.unitOf(name));
  }

  // Start a policy's program now; an explicit request overrides a cooldown.
  async startProcess(name: string): Promise<void> {
    const unit = this.unitOf(name);
    if (this.shutdownBegun) throw new EngineError("Failed", `${name} is not started: selfheal is stopping`);
    if (unit.pid !== 0 || unit.starting) return;
    unit.timer?.cancel();
    unit.timer = null;
    this.lifecycle.endCooldown(unit);
    await this.lifecycle.launch(unit, "request", 0);
    if (unit.pid === 0 && this.units.get(name) !== unit) throw new EngineError("Failed", `${name} was not started: its policy was removed meanwhile`);
    if (unit.pid === 0 && unit.state === "stopped") throw new EngineError("Failed", `${name} was stopped while it was starting`);
    if (unit.pid === 0) throw new EngineError("Failed", `${name} could not be started; see the event log`);
  }

  // Stop a policy's program; it stays stopped until asked to start. A start
  // under way is undone: this returns once its child is gone.
  async stopProcess(name: string): Promise<void> {
    const unit = this.unitOf(name);
    unit.timer?.cancel();
    unit.timer = null;
    // A restart that waited is called off: the end it answered is done with (its keeper's record is dropped).
    releaseHeldEnd(unit);
    if (unit.starting) {
      await this.lifecycle.abortStart(unit, "it was stopped while it was starting");
      return;
    }
    if (unit.pid === 0) {
      unit.state = "stopped";
      return;
    }
    await this.lifecycle.requestStop(unit, { then: "hold" });
  }

  // Stop (when running) and start again, as the user asked.
  async restartProcess(name: string): Promise<void> {
    const unit = this.unitOf(name);
    if (unit.pid === 0) return this.startProcess(name);
    this.lifecycle.endCooldown(unit);
    await this.lifecycle.requestStop(unit, { then: "restart", reason: "request", throttled: false });
    if (unit.pid === 0 && !unit.starting) throw new EngineError("Failed", `${name} could not be started again; see the event log`);
  }

  // End a cooldown and clear the restart window; a process held down by it starts again.
  resetCooldown(name: string): void {
    const unit = this.unitOf(name);
    const wasHeld = unit.state === "cooldown";
    this.lifecycle.endCooldown(unit);
    if (wasHeld && unit.pid === 0) this.lifecycle.launchDetached(unit, "cooldown-ended", 0);
  }

  cooldownViews(): UnitView[] {
    return this.list().filter((view) => view.restartsInWindow > 0 || view.cooldownUntilMs > 0);
  }

  /**
   * Act on a detector's finding (anomalies): restart or kill the unit's
   * process, as a violation would. Returns what was done.
   */
  async actOn(name: string, action: "restart" | "kill", reason: StartReason): Promise<void> {
    const unit = this.unitOf(name);
    if (unit.pid === 0) return;
    if (action === "kill") await this.lifecycle.requestStop(unit, { then: "hold" }, "SIGKILL");
    else await this.lifecycle.requestStop(unit, { then: "restart", reason, throttled: true });
  }

  // Apply a new configuration: new policies join, removed ones are let go
  // (their programs keep running), changed ones take their new limits at once;
  // programs whose policy did not change are not disturbed.
  applyConfig(config: Config): { added: string[]; removed: string[]; changed: string[] } {
    const added: string[] = [];
    const removed: string[] = [];
    const changed: string[] = [];
    for (const [name, unit] of this.units) {
      if (config.policies.has(name)) continue;
      this.lifecycle.release(unit);
      this.units.delete(name);
      this.cooldown.forget(name);
      removed.push(name);
    }
    // The same object is the same policy, not compared as text: a policy edit leaves the other policies' objects as they were.
    for (const policy of config.policies.values()) {
      const unit = this.units.get(policy.name);
      if (!unit) {
        this.units.set(policy.name, newUnit(policy));
        added.push(policy.name);
      } else if (unit.policy !== policy && JSON.stringify(unit.policy) !== JSON.stringify(policy)) {
        unit.policy = policy;
        unit.sustain.reset();
        // A new match may name other processes: a protected match is told again.
        unit.protectedReported = false;
        unit.protectedMatch = "";
        changed.push(policy.name);
      }
    }
    this.config = config;
    if (removed.length > 0) this.lifecycle.persistCooldowns();
    if (this.running) {
      // A policy back under its old name takes back the program its keeper still holds.
      if (added.length > 0) reattach(this.ctx, this.lifecycle, this.deps.spawner.recover?.(new Set(added)) ?? []);
      // A fresh look: the last scan may predate a program started since (one a removed policy left
      // running). A peek, not a scan: the processes new since the last scan are read, the others
      // carried (each one adopted confirmed alive), and the scans' CPU windows stay whole. The
      // program is adopted now, whatever the interval, so the edit's reply already tells its PID.
      const snapshot = added.length > 0 && this.snapshot ? currentProcesses(this.ctx) : this.snapshot;
      for (const name of added) {
        const unit = this.units.get(name);
        if (!unit || unit.pid !== 0 || !snapshot) continue;
        tryAdopt(this.ctx, unit, snapshot, claimedPids(this.units), snapshot !== this.snapshot);
        if (unit.pid === 0 && unit.policy.autostart) this.lifecycle.launchDetached(unit, "autostart", 0);
      }
      // The interval may have changed: take it from the next tick on.
      this.tickTimer?.cancel();
      this.scheduleTick();
    }
    this.lookout?.refresh();
    return { added, removed, changed };
  }

  // Between scans: memory limits of the processes close to them, or of all (see limits.ts); the memory sentinel's look.
  checkMemory(all = false): void {
    this.limits.checkMemory(all);
  }

  private scheduleTick(): void {
    if (!this.running) return;
    this.tickTimer = this.deps.clock.setTimeout(() => {
      try {
        this.tick();
      } catch (error) {
        this.ctx.internalError("scanning the process table", error);
      }
      this.scheduleTick();
    }, this.config.settings.intervalSec * MS_PER_SEC);
  }

  // A unit with a pid: has its process ended (adopted ones are seen here), and is it within its limits?
  private checkRunning(unit: Unit, snapshot: ProcessSnapshot): void {
    const sample = snapshot.processes.get(unit.pid);
    // A child we just started (or a process it forked away to): this is the first scan that sees it.
    if (sample && unit.managed && unit.startTicks === -1) unit.startTicks = sample.startTicks;
    const alive = sample !== undefined && sample.startTicks === unit.startTicks && sample.state !== "Z";
    if (!alive) {
      // A managed program's end arrives from its keeper or as its exit event, with the status (a look at
      // the keeper's record now covers a notice that went missing); only adopted ends are seen here.
      if (!unit.managed) this.lifecycle.onEnded(unit, unknownExit());
      else unit.child?.check?.();
      return;
    }
    // An adopted process that became one the guard protects (it exec'd a session program) is let go.
    const refusal = unit.managed || unit.stopping ? null : this.ctx.deps.signaller.refusalFor(sample);
    if (refusal !== null) return letGo(this.ctx, unit, refusal);
    // Re-attached, or taken back after a fork: its start time in ms comes from the scan.
    if (unit.startedAtMs === 0) unit.startedAtMs = sample.startTimeMs;
    // No longer its keeper's child: the keeper is gone, and with it the exit status (the handle says so).
    if (unit.child?.keeperPid !== undefined && sample.ppid !== unit.child.keeperPid) unit.child.check?.();
    this.limits.observe(unit, sample, snapshot);
  }

  private unitOf(name: string): Unit {
    const unit = this.units.get(name);
    if (!unit) throw unknownProcess(name, this.units.keys());
    return unit;
  }

  private view(unit: Unit, now = this.deps.clock.now()): UnitView {
    const cooldown = this.cooldown.status(unit.policy.name, unit.policy.cooldown, now);
    return {
      name: unit.policy.name,
      pid: unit.pid,
      startTicks: unit.pid === 0 ? -1 : unit.startTicks,
      state: unit.state,
      cpuPercent: unit.pid === 0 ? 0 : unit.usage.cpuPercent,
      rssBytes: unit.pid === 0 ? 0 : unit.usage.rssBytes,
      cpuLimit: unit.policy.cpuLimit,
      memoryLimitBytes: unit.policy.memoryLimitBytes,
      restarts: unit.restarts,
      cooldownRemainingSec: cooldown.untilMs > 0 ? (cooldown.untilMs - now) / MS_PER_SEC : 0,
      cooldownUntilMs: cooldown.untilMs,
      restartsInWindow: cooldown.restartsInWindow,
      managed: unit.managed,
      startedAtMs: unit.pid === 0 ? 0 : unit.startedAtMs,
      protectedMatch: unit.pid === 0 ? unit.protectedMatch : "",
    };
  }
}
