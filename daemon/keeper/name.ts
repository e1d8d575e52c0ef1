// The keeper's program name: it is how a keeper is told from the program it
// holds (its command line carries the program's, so a /regex/ match would
// otherwise name it too).
import type { ProcessSample, ProcessSnapshot } from "../proc/types.js";

/** The keeper's file name, and its comm (15 characters: the kernel keeps it whole). */
export const KEEPER_NAME = "selfheal-keeper";

// True for a keeper process (or a keeper's child in the instant before it runs the program): never a policy's program.
export function isKeeperProcess(sample: Pick<ProcessSample, "comm">): boolean {
  return sample.comm === KEEPER_NAME;
}

// The keeper holding `sample` (its parent), or null when no keeper holds it.
export function keeperOf(sample: Pick<ProcessSample, "ppid">, snapshot: ProcessSnapshot): ProcessSample | null {
  const parent = snapshot.processes.get(sample.ppid);
  return parent !== undefined && isKeeperProcess(parent) ? parent : null;
}
