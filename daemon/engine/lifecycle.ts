// The start/stop life cycle of a unit's program: launch, stop (SIGTERM, then
// SIGKILL after the timeout), the decision to restart on an end, the backoff
// between restarts and the cooldown that holds a restart loop down.
// A refused or failed signal is told (an event) and never thrown out of the
// engine; a start that must not go on (stopped meanwhile, policy removed)
// ends its child; nothing starts once shutdown began.
import { backoffDelayMs, BACKOFF_RESET_AFTER_MS } from "../supervise/backoff.js";
import { classifyExit, unknownExit, type ExitStatus } from "../supervise/exit.js";
import type { ChildHandle } from "../supervise/spawner.js";
import type { Policy } from "../config/policy.js";
import { descendantsOf } from "../proc/tree.js";
import { ProtectedError } from "../safety/guard.js";
import { plural } from "../words.js";
import { adoptCopy, adoptRunningCopy, claimedPids, findRunningCopy, letGo, tryAdopt } from "./adoption.js";
import { superviseChild } from "./children.js";
import { detach, guarded, MS_PER_SEC, type EngineContext } from "./context.js";
import { EngineError } from "./errors.js";
import type { StartReason } from "./events.js";
import { clearProcess, releaseHeldEnd, type AfterStop, type StartAbort, type Stopping, type Unit } from "./unit.js";

// A restart of the unit is scheduled for later (the backoff).
function restartWaits(unit: Unit): boolean {
  return unit.state === "backoff";
}

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
    // The ended program's handle is held until its restart is handed over (or none comes): a keeper's record of
    // the end stays until then, so that a daemon killed in between still restarts it.
    releaseHeldEnd(unit);
    unit.heldEnd = unit.child;
    unit.child = null;
    clearProcess(unit);

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
      let restarted: Promise<void> = Promise.resolve();
      if (stopping.then === "restart") {
        if (stopping.throttled) this.restartThrottled(unit, stopping.reason, oldPid);
        else restarted = this.launchDetached(unit, stopping.reason, oldPid);
      }
      if (!restartWaits(unit)) releaseHeldEnd(unit);
      // Those who asked for a restart hear back once the new program runs (a keeper takes a moment to report it).
      void restarted.finally(() => {
        for (const wake of stopping.waiters) wake();
      });
      return;
    }

    if (now - unit.startedAtMs >= BACKOFF_RESET_AFTER_MS) unit.consecutive = 0;
    const restartMode = unit.policy.restart;
    const wantsRestart = restartMode === "always" || (restartMode === "on-failure" && status.kind === "crash");
    // Once shutdown began nothing starts: the end is told, the restart is left to the next daemon's look.
    const stoppingDaemon = ctx.shuttingDown();
    // Never a second copy: one the policy matches already runs (started by hand meanwhile), so it is watched instead.
    const copy = wantsRestart && !stoppingDaemon ? findRunningCopy(ctx, unit, oldPid) : null;
    const verdict = wantsRestart && !stoppingDaemon && copy === null ? ctx.cooldown.check(name, unit.policy.cooldown, now) : null;
    const willRestart = verdict?.allowed === true;
    const crashed = status.kind === "crash";
    unit.state = crashed ? "crashed" : "exited";
    // Fork the replacement before telling anyone: subscribers (log, bus) then
    // run while the new process starts, and the restarted event still follows,
    // since it is emitted once the kernel has confirmed the start.
    if (verdict?.allowed) this.scheduleRestart(unit, crashed ? "crash" : "exit", oldPid, true);
    const outcome = copy !== null
      ? `not restarted: a copy runs already (PID ${copy.pid})`
      : willRestart
      ? "restarting"
      : wantsRestart && stoppingDaemon
        ? "not restarted: selfheal is stopping"
        : wantsRestart
          ? "held back by the cooldown"
          : `not restarted (restart = "${restartMode}")`;
    ctx.emit({
      kind: crashed ? ("crashed" as const) : ("exited" as const),
      timeMs: now,
      name,
      pid: oldPid,
      exitCode: status.code,
      signal: status.signal,
      statusKnown: wasManaged && status.kind !== "unknown",
      willRestart,
      message: `${name} (PID ${oldPid}) ${status.description}${crashed ? ", a crash" : ""}; ${outcome}`,
    });
    if (copy !== null) adoptCopy(ctx, unit, copy);
    if (verdict && !verdict.allowed) this.holdInCooldown(unit, verdict.untilMs, verdict.restartsInWindow);
    // No restart waits (it was handed over already, or none comes): the end is done with. A cooldown is persisted on its own.
    if (!restartWaits(unit)) releaseHeldEnd(unit);
  }

  // A restart that counts toward the cooldown (violations, anomalies).
  restartThrottled(unit: Unit, reason: StartReason, oldPid: number): void {
    if (this.ctx.shuttingDown()) return;
    const verdict = this.ctx.cooldown.check(unit.policy.name, unit.policy.cooldown, this.ctx.deps.clock.now());
    if (verdict.allowed) this.scheduleRestart(unit, reason, oldPid);
    else this.holdInCooldown(unit, verdict.untilMs, verdict.restartsInWindow);
  }

  // Restart now, or after the backoff when the last runs were short. `lookedForCopy`:
  // the caller has just made sure no copy runs, so an immediate restart need not look again.
  private scheduleRestart(unit: Unit, reason: StartReason, oldPid: number, lookedForCopy = false): void {
    const delay = backoffDelayMs(unit.consecutive);
    unit.consecutive += 1;
    const restart = guarded(this.ctx, `restarting ${unit.policy.name}`, () => {
      unit.timer = null;
      if (this.ctx.shuttingDown()) return;
      this.ctx.cooldown.recordRestart(unit.policy.name, unit.policy.cooldown, this.ctx.deps.clock.now());
      this.persistCooldowns();
      this.launchDetached(unit, reason, oldPid, lookedForCopy && delay === 0);
    });
    if (delay === 0) return restart();
    unit.state = "backoff";
    unit.timer = this.ctx.deps.clock.setTimeout(restart, delay);
  }

  // Hold the unit down until untilMs. A cooldown that began is saved before it is told and marked
  // told after, so a kill -9 in between loses neither: the next daemon keeps it and tells it
  // (once more at worst, if killed before the mark is saved).
  private holdInCooldown(unit: Unit, untilMs: number, restarts: number): void {
    const { ctx } = this;
    const name = unit.policy.name;
    unit.state = "cooldown";
    this.persistCooldowns();
    const now = ctx.deps.clock.now();
    const seconds = (untilMs - now) / MS_PER_SEC;
    if (ctx.cooldown.unannounced(name)) {
      ctx.emit({
        kind: "cooldown-started",
        timeMs: now,
        name,
        restarts,
        seconds,
        untilMs,
        message: `${name} restarted ${plural(restarts, "time", "times")} within ${unit.policy.cooldown.windowSec} s: no restarts for ${Math.round(seconds)} s`,
      });
      ctx.cooldown.markAnnounced(name);
      this.persistCooldowns();
    }
    unit.timer?.cancel();
    const end = guarded(ctx, `ending the cooldown of ${unit.policy.name}`, () => {
      unit.timer = null;
      if (unit.state !== "cooldown") return;
      this.endCooldown(unit);
      // Someone may have started it by hand meanwhile: adopt rather than start a second one
      // (a fault in that look must not keep the program down: it is told, and the start goes on).
      const snapshot = ctx.snapshot();
      guarded(ctx, `looking for ${unit.policy.name} at the end of its cooldown`, () => {
        if (snapshot) tryAdopt(ctx, unit, snapshot, claimedPids(ctx.units));
      })();
      if (unit.pid === 0) this.launchDetached(unit, "cooldown-ended", 0);
    });
    unit.timer = ctx.deps.clock.setTimeout(end, Math.max(0, untilMs - now));
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
    if (status.untilMs > now) this.holdInCooldown(unit, status.untilMs, status.restartsInWindow);
  }

  // A start nobody awaits (autostart, restarts, cooldown end): a bug in it is told, never thrown.
  launchDetached(unit: Unit, reason: StartReason, oldPid: number, lookedForCopy = false): Promise<void> {
    return detach(this.ctx, `starting ${unit.policy.name}`, this.launch(unit, reason, oldPid, lookedForCopy));
  }

  // Start the unit's program; a failure to start counts as a crash (so it backs off and cools down).
  async launch(unit: Unit, reason: StartReason, oldPid: number, lookedForCopy = false): Promise<void> {
    const { ctx } = this;
    // Once shutdown began nothing starts; an end still held keeps its record for the next daemon.
    if (ctx.shuttingDown()) return;
    if (unit.starting || unit.pid !== 0 || ctx.units.get(unit.policy.name) !== unit) return releaseHeldEnd(unit);
    // Never a second copy, whatever the restart policy: one the policy matches runs already, so watch that one.
    if (!lookedForCopy && adoptRunningCopy(ctx, unit, oldPid)) return releaseHeldEnd(unit);
    unit.starting = true;
    unit.startAbort = null;
    const policy = unit.policy;
    let child: ChildHandle;
    try {
      const spawned = ctx.deps.spawner.spawn(policy);
      // The job is with a keeper now (its own record takes over): the ended program's record is done with.
      releaseHeldEnd(unit);
      child = await spawned;
    } catch (error) {
      unit.starting = false;
      unit.state = "crashed";
      const message = error instanceof Error ? error.message : String(error);
      ctx.emit({ kind: "start-failed", timeMs: ctx.deps.clock.now(), name: policy.name, error: message, message: `${policy.name}: ${message}` });
      const abort = unit.startAbort as StartAbort | null;
      unit.startAbort = null;
      if (abort) {
        unit.state = "stopped";
        for (const wake of abort.waiters) wake();
      } else if (ctx.units.get(policy.name) === unit && policy.restart !== "never" && reason !== "request") {
        this.restartThrottled(unit, reason, oldPid);
      }
      return;
    }
    unit.starting = false;
    // A stop that arrived while the kernel started the child, or the policy removed meanwhile: the child must not run.
    const abort: StartAbort | null =
      (unit.startAbort as StartAbort | null) ?? (ctx.units.get(policy.name) !== unit ? { why: "its policy was removed while it was starting", waiters: [] } : null);
    unit.startAbort = null;
    if (abort) {
      await this.endUnwanted(unit, policy, child, abort);
      return;
    }
    const now = ctx.deps.clock.now();
    const pid = child.pid;
    unit.pid = pid;
    unit.startTicks = child.startTicks ?? -1;
    unit.managed = true;
    unit.startedAtMs = now;
    unit.state = "running";
    unit.protectedMatch = "";
    if (reason !== "request" && reason !== "autostart" && reason !== "cooldown-ended") unit.restarts += 1;
    if (unit.startTicks === -1) this.learnStartTicks(unit);
    if (oldPid !== 0) {
      ctx.emit({
        kind: "restarted",
        timeMs: now,
        name: policy.name,
        oldPid,
        newPid: pid,
        reason,
        message: `${policy.name} restarted (PID ${oldPid} → ${pid}, after ${reason})`,
      });
    } else {
      ctx.emit({ kind: "started", timeMs: now, name: policy.name, pid, reason, message: `${policy.name} started (PID ${pid}, ${reason})` });
    }
    // After the start is told: what the keeper has seen already (a fork followed, even an end) comes next, in order.
    superviseChild(ctx, this, unit, child);
  }

  // A start must be undone: end the new child (SIGTERM, SIGKILL after the stop timeout), then tell those waiting.
  private async endUnwanted(unit: Unit, policy: Policy, child: ChildHandle, abort: StartAbort): Promise<void> {
    const { ctx } = this;
    const ended = new Promise<ExitStatus>((resolve) => child.onExit((code, signal) => resolve(classifyExit(code, signal))));
    this.send(policy.name, child.pid, "SIGTERM");
    const killTimer = ctx.deps.clock.setTimeout(
      guarded(ctx, `ending ${policy.name} (PID ${child.pid})`, () => this.send(policy.name, child.pid, "SIGKILL")),
      policy.stopTimeoutSec * MS_PER_SEC,
    );
    const status = await ended;
    killTimer.cancel();
    if (ctx.units.get(policy.name) === unit && unit.pid === 0 && !unit.starting) unit.state = "stopped";
    ctx.emit({
      kind: "stopped",
      timeMs: ctx.deps.clock.now(),
      name: policy.name,
      pid: child.pid,
      forced: status.signal === "SIGKILL",
      message: `${policy.name} (PID ${child.pid}) was ended as soon as it started: ${abort.why} (${status.description})`,
    });
    for (const wake of abort.waiters) wake();
  }

  // A stop asked for while a start is under way: the start is undone; resolves once its child is gone.
  abortStart(unit: Unit, why: string): Promise<void> {
    return new Promise((resolve) => {
      unit.startAbort ??= { why, waiters: [] };
      unit.startAbort.waiters.push(resolve);
    });
  }

  // A child's start time comes from the next scan; until then, take it from the last one if it is there.
  private learnStartTicks(unit: Unit): void {
    const sample = this.ctx.snapshot()?.processes.get(unit.pid);
    if (sample) unit.startTicks = sample.startTicks;
  }

  // Ask the unit's process to stop: SIGTERM (or the given signal), SIGKILL after the stop timeout.
  // Rejects with EngineError Protected (or Failed) when the signal is refused; that is told by an event too.
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
      // An adopted process is named by (pid, start time): one that ended meanwhile is not signalled, its PID may be another's now.
      if (!unit.managed && !this.ctx.deps.probe.isAlive(pid, unit.startTicks)) {
        this.onEnded(unit, { ...unknownExit(), description: "had already ended" });
        return;
      }
      try {
        this.ctx.deps.signaller.kill(pid, signal);
      } catch (error) {
        unit.stopping = null;
        reject(this.refusal(unit, signal, error));
        return;
      }
      if (unit.stopping !== stopping) return; // it has already ended
      stopping.killTimer = this.ctx.deps.clock.setTimeout(
        guarded(this.ctx, `ending ${unit.policy.name} (PID ${pid})`, () => this.forceKill(unit, pid)),
        unit.policy.stopTimeoutSec * MS_PER_SEC,
      );
      if (!unit.managed) this.pollAdoptedStop(unit, pid);
    });
  }

  // A unit whose policy was removed: a stop under way is finished as far as its callers go; nothing follows it.
  release(unit: Unit): void {
    unit.child?.release?.();
    releaseHeldEnd(unit);
    unit.timer?.cancel();
    const stopping = unit.stopping;
    unit.stopping = null;
    stopping?.killTimer?.cancel();
    for (const wake of stopping?.waiters ?? []) wake();
  }

  // The program forked away during a stop: the stop goes on with the process it left (SIGTERM now, SIGKILL after the timeout).
  continueStop(unit: Unit): void {
    const stopping = unit.stopping;
    if (!stopping) return;
    stopping.killTimer?.cancel();
    const pid = unit.pid;
    this.send(unit.policy.name, pid, "SIGTERM");
    if (unit.stopping !== stopping) return; // it has already ended
    stopping.killTimer = this.ctx.deps.clock.setTimeout(
      guarded(this.ctx, `ending ${unit.policy.name} (PID ${pid})`, () => this.forceKill(unit, pid)),
      unit.policy.stopTimeoutSec * MS_PER_SEC,
    );
    if (!unit.managed) this.pollAdoptedStop(unit, pid);
  }

  // Cancel the unit's timers at shutdown; its program is left running.
  cancelTimers(unit: Unit): void {
    unit.timer?.cancel();
    unit.stopping?.killTimer?.cancel();
  }

  // A signal to the unit's process failed: tell it; a protected process is let go, never acted on again.
  private refusal(unit: Unit, signal: NodeJS.Signals, error: unknown): EngineError {
    const { ctx } = this;
    const message = error instanceof Error ? error.message : String(error);
    const name = unit.policy.name;
    const pid = unit.pid;
    if (error instanceof ProtectedError) {
      ctx.emit({ kind: "protected", timeMs: ctx.deps.clock.now(), name, pid, reason: message, message: `${name}: ${message}` });
      letGo(ctx, unit, error.reason);
      return new EngineError("Protected", message);
    }
    ctx.emit({ kind: "action-failed", timeMs: ctx.deps.clock.now(), name, pid, action: signal, error: message, message: `${name}: sending ${signal} to PID ${pid} failed: ${message}` });
    return new EngineError("Failed", `${name}: sending ${signal} to PID ${pid} failed: ${message}`);
  }

  // Send a signal where no caller waits for the answer: a refusal or failure is told, never thrown.
  private send(name: string, pid: number, signal: NodeJS.Signals): boolean {
    try {
      this.ctx.deps.signaller.kill(pid, signal);
      return true;
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      const timeMs = this.ctx.deps.clock.now();
      if (error instanceof ProtectedError) this.ctx.emit({ kind: "protected", timeMs, name, pid, reason: message, message: `${name}: ${message}` });
      else this.ctx.emit({ kind: "action-failed", timeMs, name, pid, action: signal, error: message, message: `${name}: sending ${signal} to PID ${pid} failed: ${message}` });
      return false;
    }
  }

  // The process ignored SIGTERM for the stop timeout: SIGKILL it and what it started (never a protected descendant).
  private forceKill(unit: Unit, pid: number): void {
    if (unit.pid !== pid || !unit.stopping) return;
    const targets = [pid];
    const snapshot = this.ctx.snapshot();
    if (unit.policy.scope === "tree" && snapshot) targets.push(...descendantsOf(snapshot, pid, (sample) => this.ctx.deps.signaller.refusalFor(sample) === null));
    for (const target of targets) this.send(unit.policy.name, target, "SIGKILL");
  }

  // An adopted process is not our child, so no exit event comes: look for its end.
  private pollAdoptedStop(unit: Unit, pid: number): void {
    const poll = guarded(this.ctx, `waiting for ${unit.policy.name} (PID ${pid}) to stop`, () => {
      if (unit.pid !== pid || !unit.stopping) return;
      if (!this.ctx.deps.probe.isAlive(pid, unit.startTicks)) {
        this.onEnded(unit, { ...unknownExit(), description: "ended after being asked to stop" });
        return;
      }
      this.ctx.deps.clock.setTimeout(poll, STOP_POLL_MS);
    });
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
