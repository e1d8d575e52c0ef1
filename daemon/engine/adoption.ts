// Adoption: a policy's program that runs without us (started by the user or
// before the daemon) is found in a scan and watched by PID.
import type { ProcessSnapshot } from "../proc/types.js";
import { findMatching } from "../proc/match.js";
import type { EngineContext } from "./context.js";
import type { Unit } from "./unit.js";

// Only a unit with nothing running and no start under way looks for a process to adopt.
export function mayAdopt(unit: Unit): boolean {
  return !unit.starting && (unit.state === "stopped" || unit.state === "exited" || unit.state === "crashed");
}

// The pids already watched by a unit: one process is never adopted twice.
export function claimedPids(units: ReadonlyMap<string, Unit>): Set<number> {
  const claimed = new Set<number>();
  for (const unit of units.values()) if (unit.pid !== 0) claimed.add(unit.pid);
  return claimed;
}

// Adopt an instance of the policy's program that runs without us (started by the user or before the daemon).
export function tryAdopt(ctx: EngineContext, unit: Unit, snapshot: ProcessSnapshot, claimed: Set<number>): void {
  const found = findMatching(unit.policy.match, snapshot, ctx.deps.source, { uid: ctx.uid }).find(
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
  ctx.emit({
    kind: "adopted",
    timeMs: ctx.deps.clock.now(),
    name: unit.policy.name,
    pid: found.pid,
    message: `${unit.policy.name} (PID ${found.pid}) was already running and is now watched; selfheal did not start it, so its exit status will not be known`,
  });
}
