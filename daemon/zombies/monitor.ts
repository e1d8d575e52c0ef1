// Keeps the zombie list of the latest scan and announces new zombies.
import type { Engine } from "../engine/engine.js";
import type { ProcessSnapshot } from "../proc/types.js";
import { findZombies, type ZombieInfo } from "./detect.js";

export class ZombieMonitor {
  private zombies: ZombieInfo[] = [];
  private known = new Set<number>();

  constructor(private readonly engine: Engine) {
    engine.onScan((snapshot) => this.observe(snapshot));
  }

  list(): ZombieInfo[] {
    return this.zombies;
  }

  get count(): number {
    return this.zombies.length;
  }

  // Update the list from one scan; a zombie not seen before emits zombies-detected.
  observe(snapshot: ProcessSnapshot): void {
    this.zombies = findZombies(snapshot);
    const current = new Set(this.zombies.map((zombie) => zombie.pid));
    const newPids = [...current].filter((pid) => !this.known.has(pid));
    this.known = current;
    if (newPids.length === 0) return;
    this.engine.events.emit({
      kind: "zombies-detected",
      timeMs: snapshot.timeMs,
      count: this.zombies.length,
      newPids,
      message: `${newPids.length} new zombie process(es) (${this.zombies.length} in all): ${this.zombies
        .filter((zombie) => newPids.includes(zombie.pid))
        .map((zombie) => `${zombie.name} (PID ${zombie.pid}, parent ${zombie.parentName || "?"} ${zombie.ppid})`)
        .join(", ")}`,
    });
  }
}
