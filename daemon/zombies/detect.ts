// Zombies, found in every scan: processes that have ended but whose parent has
// not collected their exit status (state Z), each with its parent.
import type { ProcessSnapshot } from "../proc/types.js";

export interface ZombieInfo {
  pid: number;
  ppid: number;
  name: string;
  parentName: string;
  uid: number;
  /** Start time in clock ticks: with the pid, names this zombie for good (always set by findZombies). */
  startTicks?: number;
  /** Seconds since the zombie's process started (the kernel keeps no time of death). */
  ageSec: number;
}

const ZOMBIE_STATE = "Z";

// Every zombie in the snapshot, oldest first.
export function findZombies(snapshot: ProcessSnapshot): ZombieInfo[] {
  const zombies: ZombieInfo[] = [];
  for (const sample of snapshot.processes.values()) {
    if (sample.state !== ZOMBIE_STATE) continue;
    const parent = snapshot.processes.get(sample.ppid);
    zombies.push({
      pid: sample.pid,
      ppid: sample.ppid,
      name: sample.comm,
      parentName: parent?.comm ?? "",
      uid: sample.uid,
      startTicks: sample.startTicks,
      ageSec: Math.max(0, (snapshot.timeMs - sample.startTimeMs) / 1000),
    });
  }
  return zombies.sort((a, b) => b.ageSec - a.ageSec || a.pid - b.pid);
}
