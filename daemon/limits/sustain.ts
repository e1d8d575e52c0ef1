// "Over the limit for N consecutive scans": counts breaches per resource and
// says when one has lasted long enough to act on. Memory is also sampled
// between scans (see Engine.checkMemory), so for memory a breach also counts
// as sustained once it has lasted as long as N scans would take.
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

/** Timer jitter allowed when "N scans' worth of time" is measured on the clock. */
const INTERVAL_TOLERANCE = 0.1;

interface Run {
  /** Scans in a row over the limit. */
  scans: number;
  /** When the current run over the limit began (ms), or null when under. */
  sinceMs: number | null;
}

export class SustainCounter {
  private runs: Record<Resource, Run> = { cpu: { scans: 0, sinceMs: null }, memory: { scans: 0, sinceMs: null } };

  // Feed one scan's usage; returns the breach that reached `sustain` scans in a row, if any.
  observe(policy: Policy, usage: Usage, nowMs = 0, intervalMs = 0): Breach | null {
    const memory = this.track("memory", usage.rssBytes, policy.memoryLimitBytes, nowMs, true);
    const cpu = this.track("cpu", usage.cpuPercent, policy.cpuLimit, nowMs, true);
    if (memory && this.sustained("memory", policy.sustain, nowMs, intervalMs)) return memory;
    if (cpu && this.sustained("cpu", policy.sustain, nowMs, intervalMs)) return cpu;
    return null;
  }

  // Feed a memory sample taken between scans; it can end a run or complete one, never count as a scan.
  observeMemory(policy: Policy, rssBytes: number, nowMs: number, intervalMs: number): Breach | null {
    const memory = this.track("memory", rssBytes, policy.memoryLimitBytes, nowMs, false);
    return memory && this.sustained("memory", policy.sustain, nowMs, intervalMs) ? memory : null;
  }

  reset(): void {
    this.runs = { cpu: { scans: 0, sinceMs: null }, memory: { scans: 0, sinceMs: null } };
  }

  /** True while some resource is over its limit (for edge-triggered notices). */
  get breaching(): boolean {
    return this.runs.cpu.sinceMs !== null || this.runs.memory.sinceMs !== null;
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

  // N scans in a row, or (memory) as long as N scans take.
  private sustained(resource: Resource, sustain: number, nowMs: number, intervalMs: number): boolean {
    const run = this.runs[resource];
    if (run.scans >= sustain) return true;
    if (resource !== "memory" || run.sinceMs === null || intervalMs <= 0) return false;
    return nowMs - run.sinceMs >= (sustain - 1) * intervalMs * (1 - INTERVAL_TOLERANCE);
  }
}
