// The engine: one /proc scan per tick, the policies applied to it, and the
// actions that follow (start, restart, stop, kill), each told as a typed event.
// It knows nothing of D-Bus, email or GNOME: adapters subscribe to its events.
import type { Config, Policy } from "../config/policy.js";
import type { CooldownState } from "../cooldown/tracker.js";
import type { ProcessProbe } from "../proc/probe.js";
import type { ProcessSnapshot, ProcessSource } from "../proc/types.js";
import type { Clock } from "./clock.js";
import type { ChildHandle, Spawner } from "../supervise/spawner.js";
import type { Breach, Usage } from "../limits/sustain.js";
import { CooldownTracker } from "../cooldown/tracker.js";
import { SustainCounter } from "../limits/sustain.js";
import { findMatching } from "../proc/match.js";
import { descendantsOf, treeTotals } from "../proc/tree.js";
import { backoffDelayMs, BACKOFF_RESET_AFTER_MS } from "../supervise/backoff.js";
import { classifyExit, unknownExit, type ExitStatus } from "../supervise/exit.js";
import { EngineError, unknownProcess } from "./errors.js";
import { EventHub, type EngineEvent, type StartReason } from "./events.js";

export type UnitState = "running" | "stopped" | "crashed" | "backoff" | "cooldown" | "exited";

/** Sends signals, refusing protected processes (see safety/guard.ts). */
export interface Signaller {
  kill(pid: number, signal: NodeJS.Signals): void;
}

/** Where the cooldown state lives between daemon runs. */
export interface CooldownStore {
  load(): CooldownState;
  /** Save without blocking (may finish later). */
  save(state: CooldownState): void;
  /** Save and finish before returning (at shutdown). */
  saveSync(state: CooldownState): void;
}

export interface EngineDeps {
  clock: Clock;
  source: ProcessSource;
  probe: ProcessProbe;
  spawner: Spawner;
  signaller: Signaller;
  cooldownStore: CooldownStore;
  /** Only this user's processes are adopted; defaults to the daemon's uid. */
  uid?: number;
}

/** What the outside world may know of one policy's process. */
export interface UnitView {
  name: string;
  pid: number;
  state: UnitState;
  cpuPercent: number;
  rssBytes: number;
  cpuLimit: number | null;
  memoryLimitBytes: number | null;
  restarts: number;
  cooldownRemainingSec: number;
  cooldownUntilMs: number;
  restartsInWindow: number;
  managed: boolean;
  startedAtMs: number;
}

/** What happens once a stop requested by the engine completes. */
type AfterStop = { then: "hold" } | { then: "restart"; reason: StartReason; throttled: boolean };

interface Unit {
  policy: Policy;
  state: UnitState;
  pid: number;
  startTicks: number;
  managed: boolean;
  startedAtMs: number;
  /** A start is under way (spawn not yet confirmed). */
  starting: boolean;
  /** Restarts done by the daemon since it started. */
  restarts: number;
  /** Restarts in a row without a healthy run, for the backoff. */
  consecutive: number;
  timer: { cancel(): void } | null;
  stopping: (AfterStop & { waiters: Array<() => void>; killTimer: { cancel(): void } | null }) | null;
  sustain: SustainCounter;
  /** A notify-only breach was already announced; quiet until usage drops again. */
  breachAnnounced: boolean;
  usage: Usage;
  /** Resident memory at the scan before the last, to see it growing. */
  previousRssBytes: number;
  /** Scans that have seen the current process (a new one's growth is not known yet). */
  scansSeen: number;
}

/** How often an adopted process is checked while we wait for it to stop. */
const STOP_POLL_MS = 50;
/**
 * How often memory limits are checked between scans. A leak can blow through
 * a budget in well under a scan interval; reading statm for the few limited
 * processes is far cheaper than scanning the whole table more often.
 */
export const MEMORY_CHECK_MS = 200;
/** Between scans, only processes already this close to their memory limit are read... */
const MEMORY_AT_RISK_FRACTION = 0.5;
/** ...or growing by this much of the limit from one scan to the next. */
const MEMORY_GROWTH_FRACTION = 0.1;
const MS_PER_SEC = 1000;

export class Engine {
  readonly events = new EventHub();
  private readonly units = new Map<string, Unit>();
  private readonly cooldown: CooldownTracker;
  private readonly scanObservers = new Set<(snapshot: ProcessSnapshot) => void>();
  private readonly uid: number;
  private config: Config;
  private tickTimer: { cancel(): void } | null = null;
  private memoryTimer: { cancel(): void } | null = null;
  private snapshot: ProcessSnapshot | null = null;
  private running = false;

  constructor(
    private readonly deps: EngineDeps,
    config: Config,
  ) {
    this.config = config;
    this.uid = deps.uid ?? process.getuid?.() ?? 0;
    this.cooldown = new CooldownTracker(deps.cooldownStore.load());
    for (const policy of config.policies.values()) this.units.set(policy.name, newUnit(policy));
  }

  // Take the first scan, adopt what already runs, start the autostart
  // programs and resume persisted cooldowns; then scan every interval.
  start(): void {
    this.running = true;
    const now = this.deps.clock.now();
    for (const unit of this.units.values()) this.resumeCooldown(unit, now);
    this.tick();
    for (const unit of this.units.values()) {
      if (unit.policy.autostart && unit.pid === 0 && unit.state !== "cooldown") void this.launch(unit, "autostart", 0);
    }
    this.scheduleTick();
    this.scheduleMemoryCheck();
  }

  // Stop scanning and cancel every timer; the programs are left running.
  shutdown(): void {
    this.running = false;
    this.tickTimer?.cancel();
    this.memoryTimer?.cancel();
    for (const unit of this.units.values()) {
      unit.timer?.cancel();
      unit.stopping?.killTimer?.cancel();
    }
    try {
      this.deps.cooldownStore.saveSync(this.cooldown.toJSON());
    } catch (error) {
      console.error(`selfheal: could not save the cooldown state: ${error instanceof Error ? error.message : String(error)}`);
    }
  }

  /** Observers see every scan after the engine has applied its policies (anomaly and zombie checks). */
  onScan(observer: (snapshot: ProcessSnapshot) => void): () => void {
    this.scanObservers.add(observer);
    return () => this.scanObservers.delete(observer);
  }

  get lastSnapshot(): ProcessSnapshot | null {
    return this.snapshot;
  }

  /** The configuration in force (the detectors read their sections and each policy's thresholds from it). */
  get activeConfig(): Config {
    return this.config;
  }

  // One scan of /proc and every policy applied to it.
  tick(): ProcessSnapshot {
    const snapshot = this.deps.source.scan();
    this.snapshot = snapshot;
    const claimed = this.claimedPids();
    for (const unit of this.units.values()) {
      if (unit.pid === 0 && this.mayAdopt(unit)) this.tryAdopt(unit, snapshot, claimed);
      if (unit.pid !== 0) this.checkRunning(unit, snapshot);
    }
    for (const observer of this.scanObservers) {
      try {
        observer(snapshot);
      } catch (error) {
        console.error("selfheal: a scan observer failed:", error);
      }
    }
    return snapshot;
  }

  list(): UnitView[] {
    return [...this.units.values()].map((unit) => this.view(unit));
  }

  get(name: string): UnitView {
    return this.view(this.unitOf(name));
  }

  // Start a policy's program now; an explicit request overrides a cooldown.
  async startProcess(name: string): Promise<void> {
    const unit = this.unitOf(name);
    if (unit.pid !== 0 || unit.starting) return;
    unit.timer?.cancel();
    unit.timer = null;
    this.endCooldown(unit);
    await this.launch(unit, "request", 0);
    if (unit.pid === 0) throw new EngineError("Failed", `${name} could not be started; see the event log`);
  }

  // Stop a policy's program; it stays stopped until asked to start.
  async stopProcess(name: string): Promise<void> {
    const unit = this.unitOf(name);
    unit.timer?.cancel();
    unit.timer = null;
    if (unit.pid === 0) {
      unit.state = "stopped";
      return;
    }
    await this.requestStop(unit, { then: "hold" });
  }

  // Stop (when running) and start again, as the user asked.
  async restartProcess(name: string): Promise<void> {
    const unit = this.unitOf(name);
    if (unit.pid === 0) return this.startProcess(name);
    this.endCooldown(unit);
    await this.requestStop(unit, { then: "restart", reason: "request", throttled: false });
    if (unit.pid === 0 && !unit.starting) throw new EngineError("Failed", `${name} could not be started again; see the event log`);
  }

  // End a cooldown and clear the restart window; a process held down by it starts again.
  resetCooldown(name: string): void {
    const unit = this.unitOf(name);
    const wasHeld = unit.state === "cooldown";
    this.endCooldown(unit);
    if (wasHeld && unit.pid === 0) void this.launch(unit, "cooldown-ended", 0);
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
    if (action === "kill") await this.requestStop(unit, { then: "hold" }, "SIGKILL");
    else await this.requestStop(unit, { then: "restart", reason, throttled: true });
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
      unit.timer?.cancel();
      // A stop under way is finished as far as its callers go; nothing follows it.
      const stopping = unit.stopping;
      unit.stopping = null;
      stopping?.killTimer?.cancel();
      for (const wake of stopping?.waiters ?? []) wake();
      this.units.delete(name);
      this.cooldown.forget(name);
      removed.push(name);
    }
    for (const policy of config.policies.values()) {
      const unit = this.units.get(policy.name);
      if (!unit) {
        this.units.set(policy.name, newUnit(policy));
        added.push(policy.name);
      } else if (JSON.stringify(unit.policy) !== JSON.stringify(policy)) {
        unit.policy = policy;
        unit.sustain.reset();
        changed.push(policy.name);
      }
    }
    this.config = config;
    if (removed.length > 0) this.persistCooldowns();
    if (this.running) {
      for (const name of added) {
        const unit = this.units.get(name);
        if (!unit || !this.snapshot) continue;
        this.tryAdopt(unit, this.snapshot, this.claimedPids());
        if (unit.pid === 0 && unit.policy.autostart) void this.launch(unit, "autostart", 0);
      }
      // The interval may have changed: take it from the next tick on.
      this.tickTimer?.cancel();
      this.scheduleTick();
    }
    return { added, removed, changed };
  }

  private scheduleTick(): void {
    if (!this.running) return;
    this.tickTimer = this.deps.clock.setTimeout(() => {
      try {
        this.tick();
      } catch (error) {
        console.error("selfheal: scan failed:", error);
      }
      this.scheduleTick();
    }, this.config.settings.intervalSec * MS_PER_SEC);
  }

  private scheduleMemoryCheck(): void {
    if (!this.running) return;
    this.memoryTimer = this.deps.clock.setTimeout(() => {
      try {
        this.checkMemory();
      } catch (error) {
        console.error("selfheal: memory check failed:", error);
      }
      this.scheduleMemoryCheck();
    }, Math.min(MEMORY_CHECK_MS, this.config.settings.intervalSec * MS_PER_SEC));
  }

  // Between scans: the resident memory of each running process with a memory
  // limit (its tree as the last scan knew it), so a breach is acted on quickly.
  checkMemory(): void {
    if (!this.snapshot) return;
    const now = this.deps.clock.now();
    const intervalMs = this.config.settings.intervalSec * MS_PER_SEC;
    for (const unit of this.units.values()) {
      const limit = unit.policy.memoryLimitBytes;
      if (unit.pid === 0 || unit.stopping || limit === null) continue;
      // A process far below its limit and not growing cannot cross it before the next scan: skip the reads.
      const atRisk =
        unit.scansSeen < 2 ||
        unit.usage.rssBytes >= limit * MEMORY_AT_RISK_FRACTION ||
        unit.usage.rssBytes - unit.previousRssBytes >= limit * MEMORY_GROWTH_FRACTION;
      if (!atRisk) continue;
      const pids = unit.policy.scope === "tree" ? [unit.pid, ...descendantsOf(this.snapshot, unit.pid)] : [unit.pid];
      let rss = 0;
      for (const pid of pids) rss += this.deps.probe.rssBytes(pid) ?? 0;
      const breach = unit.sustain.observeMemory(unit.policy, rss, now, intervalMs);
      if (breach) {
        unit.usage = { ...unit.usage, rssBytes: rss };
        this.onBreach(unit, breach);
      }
    }
  }

  private unitOf(name: string): Unit {
    const unit = this.units.get(name);
    if (!unit) throw unknownProcess(name);
    return unit;
  }

  private claimedPids(): Set<number> {
    const claimed = new Set<number>();
    for (const unit of this.units.values()) if (unit.pid !== 0) claimed.add(unit.pid);
    return claimed;
  }

  private view(unit: Unit): UnitView {
    const now = this.deps.clock.now();
    const cooldown = this.cooldown.status(unit.policy.name, unit.policy.cooldown, now);
    return {
      name: unit.policy.name,
      pid: unit.pid,
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
    };
  }

  private emit(event: EngineEvent): void {
    this.events.emit(event);
  }

  // ---- watching what runs ----

  // A unit with a pid: has its process ended (adopted ones are seen here), and is it within its limits?
  private checkRunning(unit: Unit, snapshot: ProcessSnapshot): void {
    const sample = snapshot.processes.get(unit.pid);
    // A child we just started: this is the first scan that sees it.
    if (sample && unit.managed && unit.startTicks === -1) unit.startTicks = sample.startTicks;
    const alive = sample !== undefined && sample.startTicks === unit.startTicks && sample.state !== "Z";
    if (!alive) {
      // A child's end arrives as its exit event, with the status; only adopted ends are seen here.
      if (!unit.managed) this.onEnded(unit, unknownExit());
      return;
    }
    const usage =
      unit.policy.scope === "tree" ? treeTotals(snapshot, unit.pid) : { cpuPercent: sample.cpuPercent, rssBytes: sample.rssBytes };
    unit.previousRssBytes = unit.usage.rssBytes;
    unit.scansSeen += 1;
    unit.usage = { cpuPercent: usage.cpuPercent, rssBytes: usage.rssBytes };
    if (unit.stopping) return;
    const breach = unit.sustain.observe(unit.policy, unit.usage, snapshot.timeMs, this.config.settings.intervalSec * MS_PER_SEC);
    if (breach) this.onBreach(unit, breach);
    else if (!unit.sustain.breaching) unit.breachAnnounced = false;
  }

  private mayAdopt(unit: Unit): boolean {
    return !unit.starting && (unit.state === "stopped" || unit.state === "exited" || unit.state === "crashed");
  }

  // Adopt an instance of the policy's program that runs without us (started by the user or before the daemon).
  private tryAdopt(unit: Unit, snapshot: ProcessSnapshot, claimed: Set<number>): void {
    const found = findMatching(unit.policy.match, snapshot, this.deps.source, { uid: this.uid }).find(
      (sample) => !claimed.has(sample.pid) && sample.pid !== process.pid,
    );
    if (!found) return;
    claimed.add(found.pid);
    unit.pid = found.pid;
    unit.startTicks = found.startTicks;
    unit.managed = false;
    unit.startedAtMs = found.startTimeMs;
    unit.state = "running";
    unit.usage = { cpuPercent: found.cpuPercent, rssBytes: found.rssBytes };
    this.emit({
      kind: "adopted",
      timeMs: this.deps.clock.now(),
      name: unit.policy.name,
      pid: found.pid,
      message: `${unit.policy.name} (PID ${found.pid}) was already running and is now watched; selfheal did not start it, so its exit status will not be known`,
    });
  }

  private onBreach(unit: Unit, breach: Breach): void {
    const action = unit.policy.onViolation;
    if (action === "notify" && unit.breachAnnounced) return;
    unit.breachAnnounced = true;
    const shown = breach.resource === "cpu" ? `${breach.value.toFixed(1)}% CPU (limit ${breach.limit}%)` : `${formatMb(breach.value)} of memory (limit ${formatMb(breach.limit)})`;
    this.emit({
      kind: "violation",
      timeMs: this.deps.clock.now(),
      name: unit.policy.name,
      pid: unit.pid,
      resource: breach.resource,
      value: breach.value,
      limit: breach.limit,
      action,
      message: `${unit.policy.name} (PID ${unit.pid}) used ${shown} for ${unit.policy.sustain} scan(s): ${actionWords[action]}`,
    });
    if (action === "notify") return;
    unit.sustain.reset();
    if (action === "kill") void this.requestStop(unit, { then: "hold" }, "SIGKILL");
    else void this.requestStop(unit, { then: "restart", reason: "violation", throttled: true });
  }

  // ---- ends and restarts ----

  // The unit's process has ended: finish a stop we asked for, or decide on a restart.
  private onEnded(unit: Unit, status: ExitStatus): void {
    const now = this.deps.clock.now();
    const oldPid = unit.pid;
    const name = unit.policy.name;
    const wasManaged = unit.managed;
    unit.pid = 0;
    unit.managed = false;
    unit.usage = { cpuPercent: 0, rssBytes: 0 };
    unit.previousRssBytes = 0;
    unit.scansSeen = 0;
    unit.sustain.reset();
    unit.breachAnnounced = false;

    const stopping = unit.stopping;
    if (stopping) {
      unit.stopping = null;
      stopping.killTimer?.cancel();
      this.emit({
        kind: "stopped",
        timeMs: now,
        name,
        pid: oldPid,
        forced: status.signal === "SIGKILL",
        message: `${name} (PID ${oldPid}) stopped (${status.description})`,
      });
      unit.state = "stopped";
      if (stopping.then === "restart") {
        if (stopping.throttled) this.restartThrottled(unit, stopping.reason, oldPid);
        else void this.launch(unit, stopping.reason, oldPid);
      }
      for (const wake of stopping.waiters) wake();
      return;
    }

    if (now - unit.startedAtMs >= BACKOFF_RESET_AFTER_MS) unit.consecutive = 0;
    const restartMode = unit.policy.restart;
    const wantsRestart = restartMode === "always" || (restartMode === "on-failure" && status.kind === "crash");
    const verdict = wantsRestart ? this.cooldown.check(name, unit.policy.cooldown, now) : null;
    const willRestart = verdict?.allowed === true;
    const crashed = status.kind === "crash";
    unit.state = crashed ? "crashed" : "exited";
    // Fork the replacement before telling anyone: subscribers (log, bus) then
    // run while the new process starts, and the restarted event still follows,
    // since it is emitted once the kernel has confirmed the start.
    if (verdict?.allowed) this.scheduleRestart(unit, crashed ? "crash" : "exit", oldPid);
    this.emit({
      kind: crashed ? ("crashed" as const) : ("exited" as const),
      timeMs: now,
      name,
      pid: oldPid,
      exitCode: status.code,
      signal: status.signal,
      statusKnown: wasManaged && status.kind !== "unknown",
      willRestart,
      message: `${name} (PID ${oldPid}) ${status.description}${crashed ? ", a crash" : ""}; ${willRestart ? "restarting" : wantsRestart ? "held back by the cooldown" : `not restarted (restart = "${restartMode}")`}`,
    });
    if (verdict && !verdict.allowed) this.holdInCooldown(unit, verdict.untilMs, verdict.restartsInWindow, verdict.startedNow);
  }

  // A restart that counts toward the cooldown (violations, anomalies).
  private restartThrottled(unit: Unit, reason: StartReason, oldPid: number): void {
    const verdict = this.cooldown.check(unit.policy.name, unit.policy.cooldown, this.deps.clock.now());
    if (verdict.allowed) this.scheduleRestart(unit, reason, oldPid);
    else this.holdInCooldown(unit, verdict.untilMs, verdict.restartsInWindow, verdict.startedNow);
  }

  // Restart now, or after the backoff when the last runs were short.
  private scheduleRestart(unit: Unit, reason: StartReason, oldPid: number): void {
    const delay = backoffDelayMs(unit.consecutive);
    unit.consecutive += 1;
    const restart = (): void => {
      unit.timer = null;
      this.cooldown.recordRestart(unit.policy.name, unit.policy.cooldown, this.deps.clock.now());
      this.persistCooldowns();
      void this.launch(unit, reason, oldPid);
    };
    if (delay === 0) return restart();
    unit.state = "backoff";
    unit.timer = this.deps.clock.setTimeout(restart, delay);
  }

  private holdInCooldown(unit: Unit, untilMs: number, restarts: number, startedNow: boolean): void {
    unit.state = "cooldown";
    this.persistCooldowns();
    const now = this.deps.clock.now();
    const seconds = (untilMs - now) / MS_PER_SEC;
    if (startedNow) {
      this.emit({
        kind: "cooldown-started",
        timeMs: now,
        name: unit.policy.name,
        restarts,
        seconds,
        untilMs,
        message: `${unit.policy.name} restarted ${restarts} times within ${unit.policy.cooldown.windowSec} s: no restarts for ${Math.round(seconds)} s`,
      });
    }
    unit.timer?.cancel();
    unit.timer = this.deps.clock.setTimeout(() => {
      unit.timer = null;
      if (unit.state !== "cooldown") return;
      this.endCooldown(unit);
      // Someone may have started it by hand meanwhile: adopt rather than start a second one.
      if (this.snapshot) this.tryAdopt(unit, this.snapshot, this.claimedPids());
      if (unit.pid === 0) void this.launch(unit, "cooldown-ended", 0);
    }, Math.max(0, untilMs - now));
  }

  // Clear the cooldown record and window, announcing the end of an active cooldown.
  private endCooldown(unit: Unit): void {
    const name = unit.policy.name;
    const active = this.cooldown.status(name, unit.policy.cooldown, this.deps.clock.now()).untilMs > 0 || unit.state === "cooldown";
    this.cooldown.endCooldown(name);
    unit.consecutive = 0;
    this.persistCooldowns();
    if (unit.state === "cooldown") {
      unit.timer?.cancel();
      unit.timer = null;
      unit.state = "stopped";
    }
    if (active) {
      this.emit({ kind: "cooldown-ended", timeMs: this.deps.clock.now(), name, message: `${name}: cooldown over, restarts allowed again` });
    }
  }

  // A cooldown persisted by an earlier daemon run still holds this unit down.
  private resumeCooldown(unit: Unit, now: number): void {
    const status = this.cooldown.status(unit.policy.name, unit.policy.cooldown, now);
    if (status.untilMs > now) this.holdInCooldown(unit, status.untilMs, status.restartsInWindow, false);
  }

  // Start the unit's program; a failure to start counts as a crash (so it backs off and cools down).
  private async launch(unit: Unit, reason: StartReason, oldPid: number): Promise<void> {
    if (unit.starting || unit.pid !== 0 || this.units.get(unit.policy.name) !== unit) return;
    unit.starting = true;
    const policy = unit.policy;
    let child: ChildHandle;
    try {
      child = await this.deps.spawner.spawn(policy);
    } catch (error) {
      unit.starting = false;
      unit.state = "crashed";
      const message = error instanceof Error ? error.message : String(error);
      this.emit({ kind: "start-failed", timeMs: this.deps.clock.now(), name: policy.name, error: message, message: `${policy.name}: ${message}` });
      if (this.units.get(policy.name) === unit && policy.restart !== "never" && reason !== "request") {
        this.restartThrottled(unit, reason, oldPid);
      }
      return;
    }
    unit.starting = false;
    const now = this.deps.clock.now();
    unit.pid = child.pid;
    unit.startTicks = -1;
    unit.managed = true;
    unit.startedAtMs = now;
    unit.state = "running";
    if (reason !== "request" && reason !== "autostart" && reason !== "cooldown-ended") unit.restarts += 1;
    child.onExit((code, signal) => {
      // A policy removed meanwhile let its program go: its end is no longer ours to act on.
      if (this.units.get(policy.name) !== unit) return;
      if (unit.pid === child.pid && unit.managed) this.onEnded(unit, classifyExit(code, signal));
    });
    this.learnStartTicks(unit);
    if (oldPid !== 0) {
      this.emit({
        kind: "restarted",
        timeMs: now,
        name: policy.name,
        oldPid,
        newPid: child.pid,
        reason,
        message: `${policy.name} restarted (PID ${oldPid} → ${child.pid}, after ${reason})`,
      });
    } else {
      this.emit({ kind: "started", timeMs: now, name: policy.name, pid: child.pid, reason, message: `${policy.name} started (PID ${child.pid}, ${reason})` });
    }
  }

  // A child's start time comes from the next scan; until then, take it from the last one if it is there.
  private learnStartTicks(unit: Unit): void {
    const sample = this.snapshot?.processes.get(unit.pid);
    if (sample) unit.startTicks = sample.startTicks;
  }

  // Ask the unit's process to stop: SIGTERM (or the given signal), SIGKILL after the stop timeout.
  private requestStop(unit: Unit, after: AfterStop, signal: NodeJS.Signals = "SIGTERM"): Promise<void> {
    const pid = unit.pid;
    return new Promise((resolve, reject) => {
      if (unit.stopping) {
        unit.stopping.waiters.push(resolve);
        return;
      }
      // Mark the stop before signalling, so that an exit however quick is read as this stop.
      const stopping = { ...after, waiters: [resolve], killTimer: null as { cancel(): void } | null };
      unit.stopping = stopping;
      try {
        this.deps.signaller.kill(pid, signal);
      } catch (error) {
        unit.stopping = null;
        reject(this.refusal(unit, error));
        return;
      }
      if (unit.stopping !== stopping) return; // it has already ended
      stopping.killTimer = this.deps.clock.setTimeout(() => this.forceKill(unit, pid), unit.policy.stopTimeoutSec * MS_PER_SEC);
      if (!unit.managed) this.pollAdoptedStop(unit, pid);
    });
  }

  private refusal(unit: Unit, error: unknown): EngineError {
    const message = error instanceof Error ? error.message : String(error);
    this.emit({ kind: "protected", timeMs: this.deps.clock.now(), name: unit.policy.name, pid: unit.pid, reason: message, message: `${unit.policy.name}: ${message}` });
    return new EngineError("Protected", message);
  }

  // The process ignored SIGTERM for the stop timeout: SIGKILL it and what it started.
  private forceKill(unit: Unit, pid: number): void {
    if (unit.pid !== pid || !unit.stopping) return;
    const targets = [pid];
    if (unit.policy.scope === "tree" && this.snapshot) targets.push(...descendantsOf(this.snapshot, pid));
    for (const target of targets) {
      try {
        this.deps.signaller.kill(target, "SIGKILL");
      } catch (error) {
        console.error(`selfheal: ${unit.policy.name}: ${error instanceof Error ? error.message : String(error)}`);
      }
    }
  }

  // An adopted process is not our child, so no exit event comes: look for its end.
  private pollAdoptedStop(unit: Unit, pid: number): void {
    const poll = (): void => {
      if (unit.pid !== pid || !unit.stopping) return;
      if (!this.deps.probe.isAlive(pid, unit.startTicks)) {
        this.onEnded(unit, { ...unknownExit(), description: "ended after being asked to stop" });
        return;
      }
      this.deps.clock.setTimeout(poll, STOP_POLL_MS);
    };
    this.deps.clock.setTimeout(poll, STOP_POLL_MS);
  }

  private persistCooldowns(): void {
    try {
      this.deps.cooldownStore.save(this.cooldown.toJSON());
    } catch (error) {
      // A full disk must not stop the engine: the previous file stays whole (atomic writes).
      console.error(`selfheal: could not save the cooldown state: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
}

const actionWords = { restart: "restarting it", kill: "killing it", notify: "notifying only" } as const;

function formatMb(bytes: number): string {
  return `${(bytes / (1024 * 1024)).toFixed(1)} MB`;
}

function newUnit(policy: Policy): Unit {
  return {
    policy,
    state: "stopped",
    pid: 0,
    startTicks: -1,
    managed: false,
    startedAtMs: 0,
    starting: false,
    restarts: 0,
    consecutive: 0,
    timer: null,
    stopping: null,
    sustain: new SustainCounter(),
    breachAnnounced: false,
    usage: { cpuPercent: 0, rssBytes: 0 },
    previousRssBytes: 0,
    scansSeen: 0,
  };
}
