// "Over the limit long enough to act on": CPU counts consecutive scans over
// its limit (CPU bursts and comes back); memory counts time, since it is
// sampled between scans too (see engine/limits.ts) and seldom bursts: a breach
// acts once it has lasted the policy's memory_sustain seconds.
import type { Policy } from "../config/policy.js";

export type Resource = "cpu" | "memory";

export interface Usage {
  cpuPercent: number;
  rssBytes: number;
}

export interface Breach {
  resource: Resource;
  value: number;
  limit: number;
}

/** Timer jitter allowed when a duration is measured on the clock (a look may come a little early). */
const DURATION_TOLERANCE = 0.1;
const MS_PER_SEC = 1000;

interface Run {
  /** Scans in a row over the limit. */
  scans: number;
  /** When the current run over the limit began (ms), or null when under. */
  sinceMs: number | null;
}

export class SustainCounter {
  private runs: Record<Resource, Run> = { cpu: { scans: 0, sinceMs: null }, memory: { scans: 0, sinceMs: null } };

  // Feed one scan's usage; returns the breach that has lasted long enough, if any.
  observe(policy: Policy, usage: Usage, nowMs = 0): Breach | null {
    const memory = this.track("memory", usage.rssBytes, policy.memoryLimitBytes, nowMs, true);
    const cpu = this.track("cpu", usage.cpuPercent, policy.cpuLimit, nowMs, true);
    if (memory && this.memorySustained(policy, nowMs)) return memory;
    if (cpu && this.runs.cpu.scans >= policy.sustain) return cpu;
    return null;
  }

  // Feed a memory sample taken between scans; it can begin, end or complete a run.
  observeMemory(policy: Policy, rssBytes: number, nowMs: number): Breach | null {
    const memory = this.track("memory", rssBytes, policy.memoryLimitBytes, nowMs, false);
    return memory && this.memorySustained(policy, nowMs) ? memory : null;
  }

  reset(): void {
    this.runs = { cpu: { scans: 0, sinceMs: null }, memory: { scans: 0, sinceMs: null } };
  }

  /** True while some resource is over its limit (for edge-triggered notices). */
  get breaching(): boolean {
    return this.runs.cpu.sinceMs !== null || this.runs.memory.sinceMs !== null;
  }

  /** When the memory run under way began (ms), or null when memory is within its limit. */
  get memorySinceMs(): number | null {
    return this.runs.memory.sinceMs;
  }

  // Update one resource's run; returns the breach when it is over the limit now.
  private track(resource: Resource, value: number, limit: number | null, nowMs: number, isScan: boolean): Breach | null {
    const run = this.runs[resource];
    if (limit === null || value <= limit) {
      run.scans = 0;
      run.sinceMs = null;
      return null;
    }
    if (run.sinceMs === null) run.sinceMs = nowMs;
    if (isScan) run.scans += 1;
    return { resource, value, limit };
  }

  private memorySustained(policy: Policy, nowMs: number): boolean {
    const since = this.runs.memory.sinceMs;
    return since !== null && nowMs - since >= policy.memorySustainSec * MS_PER_SEC * (1 - DURATION_TOLERANCE);
  }
}
