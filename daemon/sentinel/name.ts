// The sentinel's program name: it runs beside the daemon as its child, and is
// never a policy's program (a /regex/ match on "selfheal" would name it too).
import type { ProcessSample } from "../proc/types.js";

/** The sentinel's file name. */
export const SENTINEL_NAME = "selfheal-sentinel";
/** Its comm: the kernel keeps 15 characters of a program's name. */
const SENTINEL_COMM = SENTINEL_NAME.slice(0, 15);

export function isSentinelProcess(sample: Pick<ProcessSample, "comm">): boolean {
  return sample.comm === SENTINEL_COMM;
}
