// Process-tree views of one snapshot: who descends from a process, and what
// the whole tree costs. Pure functions over the snapshot's child index.

import type { ProcessSample, ProcessSnapshot } from "./types.js";

export interface TreeTotals {
  /** Sum of cpuPercent over the process and its descendants. */
  cpuPercent: number;
  /** Sum of resident memory over the process and its descendants. */
  rssBytes: number;
  /** Number of processes counted: the process itself plus its descendants; 0 when it is gone. */
  count: number;
}

/** Whether a process belongs to a tree; one that does not is left out with its whole subtree. */
export type Admit = (sample: ProcessSample) => boolean;

// Every descendant of pid (not pid itself), breadth first; safe against cycles in a torn snapshot.
// With `admit`, a child it refuses is left out together with everything below it.
export function descendantsOf(snapshot: ProcessSnapshot, pid: number, admit?: Admit): number[] {
  // Most watched programs have no children: no set of the seen made for them (this runs for each at every scan).
  if (snapshot.childrenOf(pid).length === 0) return [];
  const seen = new Set<number>([pid]);
  const descendants: number[] = [];
  // descendants doubles as the queue: visit each found process's children in turn.
  let parent: number | undefined = pid;
  for (let next = 0; parent !== undefined; parent = descendants[next++]) {
    for (const child of snapshot.childrenOf(parent)) {
      if (seen.has(child)) continue;
      seen.add(child);
      if (admit !== undefined) {
        const sample = snapshot.processes.get(child);
        if (sample === undefined || !admit(sample)) continue;
      }
      descendants.push(child);
    }
  }
  return descendants;
}

// CPU, memory and process count of pid and all its descendants (with `admit`, only the subtrees it accepts).
export function treeTotals(snapshot: ProcessSnapshot, pid: number, admit?: Admit): TreeTotals {
  const totals: TreeTotals = { cpuPercent: 0, rssBytes: 0, count: 0 };
  const root = snapshot.processes.get(pid);
  if (root === undefined) return totals;
  addTo(totals, root);
  for (const member of descendantsOf(snapshot, pid, admit)) {
    const sample = snapshot.processes.get(member);
    if (sample !== undefined) addTo(totals, sample);
  }
  return totals;
}

function addTo(totals: TreeTotals, sample: ProcessSample): void {
  totals.cpuPercent += sample.cpuPercent;
  totals.rssBytes += sample.rssBytes;
  totals.count++;
}
