// Re-attachment: programs that an earlier run of the daemon started are found
// again through their keepers and stay selfheal's own (their end is known),
// and an end recorded while no daemon ran is acted on now, as if it had just
// happened (a crash is restarted under on-failure).
import type { RecoveredChild } from "../supervise/spawner.js";
import { superviseChild } from "./children.js";
import type { EngineContext } from "./context.js";
import type { Lifecycle } from "./lifecycle.js";

// Take back what the keepers hold for the units: running programs first, then the ends recorded meanwhile.
export function reattach(ctx: EngineContext, lifecycle: Lifecycle, recovered: readonly RecoveredChild[]): void {
  const ordered = [...recovered].sort((a, b) => Number(b.running) - Number(a.running));
  for (const { name, handle, running } of ordered) {
    const unit = ctx.units.get(name);
    // A second record for a unit already attached: an end some daemon had acted on already, or a stray; not ours to act on.
    if (unit === undefined || unit.pid !== 0 || unit.starting) {
      handle.release?.();
      continue;
    }
    // A cooldown persisted by the earlier run does not hold down a program that runs: it is watched again.
    unit.timer?.cancel();
    unit.timer = null;
    unit.pid = handle.pid;
    unit.startTicks = handle.startTicks ?? -1;
    unit.managed = true;
    // Its start time in ms comes with the first scan that sees it (engine.checkRunning).
    unit.startedAtMs = 0;
    unit.state = "running";
    if (running) {
      ctx.emit({
        kind: "reattached",
        timeMs: ctx.deps.clock.now(),
        name,
        pid: handle.pid,
        keeperPid: handle.keeperPid ?? 0,
        message: `${name} (PID ${handle.pid}) is still running from selfheal's previous run and is watched again as its own: its end will be known`,
      });
    }
    // An end recorded meanwhile is told as soon as this listens: the unit ends (and restarts) per its policy.
    superviseChild(ctx, lifecycle, unit, handle);
  }
}
