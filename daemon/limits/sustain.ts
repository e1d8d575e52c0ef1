// "Over the limit for N consecutive scans": counts breaches per resource and
// says when one has lasted long enough to act on.
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

export class SustainCounter {
  private counts: Record<Resource, number> = { cpu: 0, memory: 0 };

  // Feed one scan's usage; returns the breach that reached `sustain` scans in a row, if any.
  observe(policy: Policy, usage: Usage): Breach | null {
    const checks: Array<[Resource, number, number | null]> = [
      ["memory", usage.rssBytes, policy.memoryLimitBytes],
      ["cpu", usage.cpuPercent, policy.cpuLimit],
    ];
    let breach: Breach | null = null;
    for (const [resource, value, limit] of checks) {
      if (limit === null || value <= limit) {
        this.counts[resource] = 0;
        continue;
      }
      this.counts[resource] += 1;
      if (breach === null && this.counts[resource] >= policy.sustain) breach = { resource, value, limit };
    }
    return breach;
  }

  reset(): void {
    this.counts = { cpu: 0, memory: 0 };
  }

  /** True while some resource is over its limit (for edge-triggered notices). */
  get breaching(): boolean {
    return this.counts.cpu > 0 || this.counts.memory > 0;
  }
}
