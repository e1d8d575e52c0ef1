// Limits: each running unit's CPU and memory (its process or its whole tree)
// against the policy's budget, on every scan and, for memory, between scans;
// a breach sustained for N samples is told and acted on. A tree's sums leave
// out the processes the guard protects: they are never counted as members.
import type { ProcessSample, ProcessSnapshot } from "../proc/types.js";
import type { Breach } from "../limits/sustain.js";
import { descendantsOf, treeTotals } from "../proc/tree.js";
import { detach, MS_PER_SEC, type EngineContext } from "./context.js";
import type { Lifecycle } from "./lifecycle.js";
import type { Unit } from "./unit.js";
import { plural } from "../words.js";

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

const actionWords = { restart: "restarting it", kill: "killing it", notify: "notifying only" } as const;

export class Limits {
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
    unit.usage = { cpuPercent: usage.cpuPercent, rssBytes: usage.rssBytes };
    if (unit.stopping) return;
    const breach = unit.sustain.observe(unit.policy, unit.usage, snapshot.timeMs, this.ctx.config().settings.intervalSec * MS_PER_SEC);
    if (breach) this.onBreach(unit, breach);
    else if (!unit.sustain.breaching) unit.breachAnnounced = false;
  }

  // Between scans: the resident memory of each running process with a memory
  // limit (its tree as the last scan knew it), so a breach is acted on quickly.
  checkMemory(): void {
    const { ctx } = this;
    const snapshot = ctx.snapshot();
    if (!snapshot) return;
    const now = ctx.deps.clock.now();
    const intervalMs = ctx.config().settings.intervalSec * MS_PER_SEC;
    for (const unit of ctx.units.values()) {
      const limit = unit.policy.memoryLimitBytes;
      if (unit.pid === 0 || unit.stopping || limit === null) continue;
      // A process far below its limit and not growing cannot cross it before the next scan: skip the reads.
      const atRisk =
        unit.scansSeen < 2 ||
        unit.usage.rssBytes >= limit * MEMORY_AT_RISK_FRACTION ||
        unit.usage.rssBytes - unit.previousRssBytes >= limit * MEMORY_GROWTH_FRACTION;
      // A process that ended meanwhile is not read: its PID may be another's now (the next scan tells its end).
      // A child just started is not known by start time until a scan sees it; being our child, its PID is ours until we reap it.
      if (!atRisk || (unit.startTicks !== -1 && !ctx.deps.probe.isAlive(unit.pid, unit.startTicks))) continue;
      const pids = unit.policy.scope === "tree" ? [unit.pid, ...this.countedDescendants(snapshot, unit.pid)] : [unit.pid];
      let rss = 0;
      for (const pid of pids) rss += ctx.deps.probe.rssBytes(pid) ?? 0;
      const breach = unit.sustain.observeMemory(unit.policy, rss, now, intervalMs);
      if (breach) {
        unit.usage = { ...unit.usage, rssBytes: rss };
        this.onBreach(unit, breach);
      }
    }
  }

  // The descendants a tree's sums count: a protected one is left out with what runs under it (a shell's programs are the shell's).
  private countedDescendants(snapshot: ProcessSnapshot, pid: number): number[] {
    return descendantsOf(snapshot, pid, this.admit);
  }

  private readonly admit = (sample: ProcessSample): boolean => this.ctx.deps.signaller.refusalFor(sample) === null;

  private onBreach(unit: Unit, breach: Breach): void {
    const action = unit.policy.onViolation;
    if (action === "notify" && unit.breachAnnounced) return;
    unit.breachAnnounced = true;
    const shown = breach.resource === "cpu" ? `${breach.value.toFixed(1)}% CPU (limit ${breach.limit}%)` : `${formatMb(breach.value)} of memory (limit ${formatMb(breach.limit)})`;
    this.ctx.emit({
      kind: "violation",
      timeMs: this.ctx.deps.clock.now(),
      name: unit.policy.name,
      pid: unit.pid,
      resource: breach.resource,
      value: breach.value,
      limit: breach.limit,
      action,
      message: `${unit.policy.name} (PID ${unit.pid}) used ${shown} for ${plural(unit.policy.sustain, "scan", "scans")}: ${actionWords[action]}`,
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
