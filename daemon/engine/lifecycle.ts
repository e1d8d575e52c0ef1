// The start/stop life cycle of a unit's program: launch, stop (SIGTERM, then
// SIGKILL after the timeout), the decision to restart on an end, the backoff
// between restarts and the cooldown that holds a restart loop down.
import { backoffDelayMs, BACKOFF_RESET_AFTER_MS } from "../supervise/backoff.js";
import { classifyExit, unknownExit, type ExitStatus } from "../supervise/exit.js";
import type { ChildHandle } from "../supervise/spawner.js";
import { descendantsOf } from "../proc/tree.js";
import { claimedPids, tryAdopt } from "./adoption.js";
import { MS_PER_SEC, type EngineContext } from "./context.js";
import { EngineError } from "./errors.js";
import type { StartReason } from "./events.js";
import type { AfterStop, Stopping, Unit } from "./unit.js";

/** How often an adopted process is checked while we wait for it to stop. */
const STOP_POLL_MS = 50;

export class Lifecycle {
  constructor(private readonly ctx: EngineContext) {}

  // The unit's process has ended: finish a stop we asked for, or decide on a restart.
  onEnded(unit: Unit, status: ExitStatus): void {
    const { ctx } = this;
    const now = ctx.deps.clock.now();
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
      ctx.emit({
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
    const verdict = wantsRestart ? ctx.cooldown.check(name, unit.policy.cooldown, now) : null;
    const willRestart = verdict?.allowed === true;
    const crashed = status.kind === "crash";
    unit.state = crashed ? "crashed" : "exited";
    // Fork the replacement before telling anyone: subscribers (log, bus) then
    // run while the new process starts, and the restarted event still follows,
    // since it is emitted once the kernel has confirmed the start.
    if (verdict?.allowed) this.scheduleRestart(unit, crashed ? "crash" : "exit", oldPid);
    ctx.emit({
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
  restartThrottled(unit: Unit, reason: StartReason, oldPid: number): void {
    const verdict = this.ctx.cooldown.check(unit.policy.name, unit.policy.cooldown, this.ctx.deps.clock.now());
    if (verdict.allowed) this.scheduleRestart(unit, reason, oldPid);
    else this.holdInCooldown(unit, verdict.untilMs, verdict.restartsInWindow, verdict.startedNow);
  }

  // Restart now, or after the backoff when the last runs were short.
  private scheduleRestart(unit: Unit, reason: StartReason, oldPid: number): void {
    const delay = backoffDelayMs(unit.consecutive);
    unit.consecutive += 1;
    const restart = (): void => {
      unit.timer = null;
      this.ctx.cooldown.recordRestart(unit.policy.name, unit.policy.cooldown, this.ctx.deps.clock.now());
      this.persistCooldowns();
      void this.launch(unit, reason, oldPid);
    };
    if (delay === 0) return restart();
    unit.state = "backoff";
    unit.timer = this.ctx.deps.clock.setTimeout(restart, delay);
  }

  private holdInCooldown(unit: Unit, untilMs: number, restarts: number, startedNow: boolean): void {
    const { ctx } = this;
    unit.state = "cooldown";
    this.persistCooldowns();
    const now = ctx.deps.clock.now();
    const seconds = (untilMs - now) / MS_PER_SEC;
    if (startedNow) {
      ctx.emit({
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
    unit.timer = ctx.deps.clock.setTimeout(() => {
      unit.timer = null;
      if (unit.state !== "cooldown") return;
      this.endCooldown(unit);
      // Someone may have started it by hand meanwhile: adopt rather than start a second one.
      const snapshot = ctx.snapshot();
      if (snapshot) tryAdopt(ctx, unit, snapshot, claimedPids(ctx.units));
      if (unit.pid === 0) void this.launch(unit, "cooldown-ended", 0);
    }, Math.max(0, untilMs - now));
  }

  // Clear the cooldown record and window, announcing the end of an active cooldown.
  endCooldown(unit: Unit): void {
    const { ctx } = this;
    const name = unit.policy.name;
    const active = ctx.cooldown.status(name, unit.policy.cooldown, ctx.deps.clock.now()).untilMs > 0 || unit.state === "cooldown";
    ctx.cooldown.endCooldown(name);
    unit.consecutive = 0;
    this.persistCooldowns();
    if (unit.state === "cooldown") {
      unit.timer?.cancel();
      unit.timer = null;
      unit.state = "stopped";
    }
    if (active) {
      ctx.emit({ kind: "cooldown-ended", timeMs: ctx.deps.clock.now(), name, message: `${name}: cooldown over, restarts allowed again` });
    }
  }

  // A cooldown persisted by an earlier daemon run still holds this unit down.
  resumeCooldown(unit: Unit, now: number): void {
    const status = this.ctx.cooldown.status(unit.policy.name, unit.policy.cooldown, now);
    if (status.untilMs > now) this.holdInCooldown(unit, status.untilMs, status.restartsInWindow, false);
  }

  // Start the unit's program; a failure to start counts as a crash (so it backs off and cools down).
  async launch(unit: Unit, reason: StartReason, oldPid: number): Promise<void> {
    const { ctx } = this;
    if (unit.starting || unit.pid !== 0 || ctx.units.get(unit.policy.name) !== unit) return;
    unit.starting = true;
    const policy = unit.policy;
    let child: ChildHandle;
    try {
      child = await ctx.deps.spawner.spawn(policy);
    } catch (error) {
      unit.starting = false;
      unit.state = "crashed";
      const message = error instanceof Error ? error.message : String(error);
      ctx.emit({ kind: "start-failed", timeMs: ctx.deps.clock.now(), name: policy.name, error: message, message: `${policy.name}: ${message}` });
      if (ctx.units.get(policy.name) === unit && policy.restart !== "never" && reason !== "request") {
        this.restartThrottled(unit, reason, oldPid);
      }
      return;
    }
    unit.starting = false;
    const now = ctx.deps.clock.now();
    unit.pid = child.pid;
    unit.startTicks = -1;
    unit.managed = true;
    unit.startedAtMs = now;
    unit.state = "running";
    if (reason !== "request" && reason !== "autostart" && reason !== "cooldown-ended") unit.restarts += 1;
    child.onExit((code, signal) => {
      // A policy removed meanwhile let its program go: its end is no longer ours to act on.
      if (ctx.units.get(policy.name) !== unit) return;
      if (unit.pid === child.pid && unit.managed) this.onEnded(unit, classifyExit(code, signal));
    });
    this.learnStartTicks(unit);
    if (oldPid !== 0) {
      ctx.emit({
        kind: "restarted",
        timeMs: now,
        name: policy.name,
        oldPid,
        newPid: child.pid,
        reason,
        message: `${policy.name} restarted (PID ${oldPid} → ${child.pid}, after ${reason})`,
      });
    } else {
      ctx.emit({ kind: "started", timeMs: now, name: policy.name, pid: child.pid, reason, message: `${policy.name} started (PID ${child.pid}, ${reason})` });
    }
  }

  // A child's start time comes from the next scan; until then, take it from the last one if it is there.
  private learnStartTicks(unit: Unit): void {
    const sample = this.ctx.snapshot()?.processes.get(unit.pid);
    if (sample) unit.startTicks = sample.startTicks;
  }

  // Ask the unit's process to stop: SIGTERM (or the given signal), SIGKILL after the stop timeout.
  requestStop(unit: Unit, after: AfterStop, signal: NodeJS.Signals = "SIGTERM"): Promise<void> {
    const pid = unit.pid;
    return new Promise((resolve, reject) => {
      if (unit.stopping) {
        unit.stopping.waiters.push(resolve);
        return;
      }
      // Mark the stop before signalling, so that an exit however quick is read as this stop.
      const stopping: Stopping = { ...after, waiters: [resolve], killTimer: null };
      unit.stopping = stopping;
      try {
        this.ctx.deps.signaller.kill(pid, signal);
      } catch (error) {
        unit.stopping = null;
        reject(this.refusal(unit, error));
        return;
      }
      if (unit.stopping !== stopping) return; // it has already ended
      stopping.killTimer = this.ctx.deps.clock.setTimeout(() => this.forceKill(unit, pid), unit.policy.stopTimeoutSec * MS_PER_SEC);
      if (!unit.managed) this.pollAdoptedStop(unit, pid);
    });
  }

  // A unit whose policy was removed: a stop under way is finished as far as its callers go; nothing follows it.
  release(unit: Unit): void {
    unit.timer?.cancel();
    const stopping = unit.stopping;
    unit.stopping = null;
    stopping?.killTimer?.cancel();
    for (const wake of stopping?.waiters ?? []) wake();
  }

  // Cancel the unit's timers at shutdown; its program is left running.
  cancelTimers(unit: Unit): void {
    unit.timer?.cancel();
    unit.stopping?.killTimer?.cancel();
  }

  private refusal(unit: Unit, error: unknown): EngineError {
    const message = error instanceof Error ? error.message : String(error);
    this.ctx.emit({ kind: "protected", timeMs: this.ctx.deps.clock.now(), name: unit.policy.name, pid: unit.pid, reason: message, message: `${unit.policy.name}: ${message}` });
    return new EngineError("Protected", message);
  }

  // The process ignored SIGTERM for the stop timeout: SIGKILL it and what it started.
  private forceKill(unit: Unit, pid: number): void {
    if (unit.pid !== pid || !unit.stopping) return;
    const targets = [pid];
    const snapshot = this.ctx.snapshot();
    if (unit.policy.scope === "tree" && snapshot) targets.push(...descendantsOf(snapshot, pid));
    for (const target of targets) {
      try {
        this.ctx.deps.signaller.kill(target, "SIGKILL");
      } catch (error) {
        console.error(`selfheal: ${unit.policy.name}: ${error instanceof Error ? error.message : String(error)}`);
      }
    }
  }

  // An adopted process is not our child, so no exit event comes: look for its end.
  private pollAdoptedStop(unit: Unit, pid: number): void {
    const poll = (): void => {
      if (unit.pid !== pid || !unit.stopping) return;
      if (!this.ctx.deps.probe.isAlive(pid, unit.startTicks)) {
        this.onEnded(unit, { ...unknownExit(), description: "ended after being asked to stop" });
        return;
      }
      this.ctx.deps.clock.setTimeout(poll, STOP_POLL_MS);
    };
    this.ctx.deps.clock.setTimeout(poll, STOP_POLL_MS);
  }

  persistCooldowns(): void {
    try {
      this.ctx.deps.cooldownStore.save(this.ctx.cooldown.toJSON());
    } catch (error) {
      // A full disk must not stop the engine: the previous file stays whole (atomic writes).
      console.error(`selfheal: could not save the cooldown state: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
}
