// Limits: each running unit's CPU and memory (its process or its whole tree)
// against the policy's budget, on every scan and, for memory, between scans
// (the memory sentinel's looks); a breach sustained (CPU: N scans, memory: a
// time) is told and acted on. A memory breach just begun is looked at again
// once its sustain has passed, so it is confirmed without waiting for a scan.
// A tree's sums leave out the processes the guard protects: they are never
// counted as members.
import type { ProcessSample, ProcessSnapshot } from "../proc/types.js";
import type { Breach } from "../limits/sustain.js";
import { descendantsOf, treeTotals } from "../proc/tree.js";
import type { Timer } from "./clock.js";
import type { WatchedMemory } from "./ports.js";
import { detach, guarded, MS_PER_SEC, type EngineContext } from "./context.js";
import type { Lifecycle } from "./lifecycle.js";
import type { Unit } from "./unit.js";
import { plural } from "../words.js";

/** Between scans, only processes already this close to their memory limit are read... */
const MEMORY_AT_RISK_FRACTION = 0.5;
/** ...or growing by this much of the limit from one scan to the next. */
const MEMORY_GROWTH_FRACTION = 0.1;

const actionWords = { restart: "restarting it", kill: "killing it", notify: "notifying only" } as const;

export class Limits {
  /** Units whose memory breach is to be looked at again once its sustain has passed. */
  private readonly confirmations = new Map<Unit, Timer>();

  constructor(
    private readonly ctx: EngineContext,
    private readonly lifecycle: Lifecycle,
  ) {}

  // A scan saw the unit's process alive: record its usage and check it against the limits.
  observe(unit: Unit, sample: ProcessSample, snapshot: ProcessSnapshot): void {
    const usage =
      unit.policy.scope === "tree" ? treeTotals(snapshot, unit.pid, this.admit) : { cpuPercent: sample.cpuPercent, rssBytes: sample.rssBytes };
    unit.previousRssBytes = unit.usage.rssBytes;
    unit.scansSeen += 1;
    // In place: a unit's usage object is its own (every other assignment is a fresh one), and this runs for each at every scan.
    unit.usage.cpuPercent = usage.cpuPercent;
    unit.usage.rssBytes = usage.rssBytes;
    if (unit.stopping) return;
    const breach = unit.sustain.observe(unit.policy, unit.usage, snapshot.timeMs);
    if (breach) return this.onBreach(unit, breach);
    if (!unit.sustain.breaching) unit.breachAnnounced = false;
    this.confirmLater(unit);
  }

  // Between scans: the resident memory of each running process with a memory
  // limit (its tree as the last scan knew it), so a breach is acted on quickly.
  // `all`: every one of them (available memory just dropped sharply); else only those near their limit.
  checkMemory(all = false): void {
    const snapshot = this.ctx.snapshot();
    if (!snapshot) return;
    for (const unit of this.ctx.units.values()) {
      if (unit.pid === 0 || unit.stopping || unit.policy.memoryLimitBytes === null) continue;
      // A process far below its limit and not growing cannot cross it before the next scan: skip the reads.
      if (all || this.nearLimit(unit)) this.probeMemory(unit, snapshot);
    }
  }

  // The lookout told that the memory of the unit whose process is `pid` rose above its limit: read it and judge it now.
  checkMemoryOf(pid: number): void {
    const snapshot = this.ctx.snapshot();
    if (!snapshot) return;
    for (const unit of this.ctx.units.values()) {
      if (unit.pid === pid && !unit.stopping && unit.policy.memoryLimitBytes !== null) this.probeMemory(unit, snapshot);
    }
  }

  // The memory limits for the lookout to watch between scans: each running process with one (its tree as the
  // last scan knew it), read every look when near its limit, else only when available memory drops sharply.
  memoryWatch(): WatchedMemory[] {
    const snapshot = this.ctx.snapshot();
    const watched: WatchedMemory[] = [];
    for (const unit of this.ctx.units.values()) {
      const limit = unit.policy.memoryLimitBytes;
      if (unit.pid === 0 || unit.stopping || limit === null) continue;
      const pids = snapshot ? this.memoryPids(unit, snapshot) : [unit.pid];
      watched.push({ pid: unit.pid, pids, limitBytes: limit, near: this.nearLimit(unit) });
    }
    return watched;
  }

  // New (fewer than two scans), over its limit now, near it, or growing fast toward it: worth reading between scans.
  private nearLimit(unit: Unit): boolean {
    const limit = unit.policy.memoryLimitBytes;
    if (limit === null) return false;
    return (
      unit.scansSeen < 2 ||
      unit.sustain.memorySinceMs !== null ||
      unit.usage.rssBytes >= limit * MEMORY_AT_RISK_FRACTION ||
      unit.usage.rssBytes - unit.previousRssBytes >= limit * MEMORY_GROWTH_FRACTION
    );
  }

  // The smallest memory limit of a running program, or null when none has one (the memory sentinel's scale).
  smallestMemoryLimit(): number | null {
    let smallest: number | null = null;
    for (const unit of this.ctx.units.values()) {
      const limit = unit.policy.memoryLimitBytes;
      if (unit.pid !== 0 && limit !== null && (smallest === null || limit < smallest)) smallest = limit;
    }
    return smallest;
  }

  // Read one unit's resident memory now and judge it.
  private probeMemory(unit: Unit, snapshot: ProcessSnapshot): void {
    const { ctx } = this;
    // A process that ended meanwhile is not read: its PID may be another's now (the next scan tells its end).
    // A child just started is not known by start time until a scan sees it; being our child, its PID is ours until we reap it.
    if (unit.startTicks !== -1 && !ctx.deps.probe.isAlive(unit.pid, unit.startTicks)) return;
    let rss = 0;
    const pids = this.memoryPids(unit, snapshot);
    for (const pid of pids) rss += ctx.deps.probe.rssBytes(pid) ?? 0;
    const breach = unit.sustain.observeMemory(unit.policy, rss, ctx.deps.clock.now());
    if (breach) {
      unit.usage = { ...unit.usage, rssBytes: rss };
      this.onBreach(unit, breach);
    } else {
      this.confirmLater(unit);
    }
  }

  // A memory breach under way that has not lasted its sustain yet: look again once it has (not at the next scan).
  private confirmLater(unit: Unit): void {
    const since = unit.sustain.memorySinceMs;
    if (since === null || unit.stopping || this.confirmations.has(unit)) return;
    const pid = unit.pid;
    const delay = Math.max(0, since + unit.policy.memorySustainSec * MS_PER_SEC - this.ctx.deps.clock.now());
    const confirm = guarded(this.ctx, `checking the memory of ${unit.policy.name} again`, () => {
      this.confirmations.delete(unit);
      const snapshot = this.ctx.snapshot();
      if (this.ctx.shuttingDown() || unit.pid !== pid || unit.stopping || !snapshot || this.ctx.units.get(unit.policy.name) !== unit) return;
      this.probeMemory(unit, snapshot);
    });
    this.confirmations.set(unit, this.ctx.deps.clock.setTimeout(confirm, delay));
  }

  // Shutdown: no look again is left pending.
  cancelConfirmations(): void {
    for (const timer of this.confirmations.values()) timer.cancel();
    this.confirmations.clear();
  }

  // The processes whose memory counts against the unit's limit: its own, and under scope = "tree" its descendants,
  // but a protected one is left out with what runs under it (a shell's programs are the shell's).
  private memoryPids(unit: Unit, snapshot: ProcessSnapshot): number[] {
    return unit.policy.scope === "tree" ? [unit.pid, ...descendantsOf(snapshot, unit.pid, this.admit)] : [unit.pid];
  }

  private readonly admit = (sample: ProcessSample): boolean => this.ctx.deps.signaller.refusalFor(sample) === null;

  private onBreach(unit: Unit, breach: Breach): void {
    const action = unit.policy.onViolation;
    if (action === "notify" && unit.breachAnnounced) return;
    unit.breachAnnounced = true;
    const shown = breach.resource === "cpu" ? `${breach.value.toFixed(1)}% CPU (limit ${breach.limit}%)` : `${formatMb(breach.value)} of memory (limit ${formatMb(breach.limit)})`;
    const lasted = breach.resource === "cpu" ? `for ${plural(unit.policy.sustain, "scan", "scans")}` : `for ${unit.policy.memorySustainSec} s`;
    this.ctx.emit({
      kind: "violation",
      timeMs: this.ctx.deps.clock.now(),
      name: unit.policy.name,
      pid: unit.pid,
      resource: breach.resource,
      value: breach.value,
      limit: breach.limit,
      action,
      message: `${unit.policy.name} (PID ${unit.pid}) used ${shown} ${lasted}: ${actionWords[action]}`,
    });
    if (action === "notify") return;
    unit.sustain.reset();
    // A refusal or failure is told by the life cycle's own event (and the process let go): nothing to throw.
    const where = `acting on the limit of ${unit.policy.name}`;
    if (action === "kill") detach(this.ctx, where, this.lifecycle.requestStop(unit, { then: "hold" }, "SIGKILL"));
    else detach(this.ctx, where, this.lifecycle.requestStop(unit, { then: "restart", reason: "violation", throttled: true }));
  }
}

function formatMb(bytes: number): string {
  return `${(bytes / (1024 * 1024)).toFixed(1)} MB`;
}
