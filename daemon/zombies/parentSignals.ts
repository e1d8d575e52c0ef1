// Why a zombie's parent does not reap it, as far as /proc tells: what the
// parent does with SIGCHLD (the signal CleanupZombies sends to ask it to reap).
// A parent that blocks SIGCHLD never hears the request; one with no handler
// (the default action is to ignore it) collects its children only when its own
// code calls wait(); one with a handler was asked and did not.
import { readFileSync } from "node:fs";

/** What a parent does with SIGCHLD: its /proc/PID/status SigBlk, SigIgn and SigCgt masks read for signal 17. */
export type SigchldDisposition = "blocked" | "ignored" | "handled" | "default" | "unknown";

/** SIGCHLD is signal 17 on Linux; the masks' bit for signal n is 1 << (n - 1). */
const SIGCHLD_BIT = 1n << 16n;

// The parent's SIGCHLD disposition, read from /proc now ("unknown" when it is gone or unreadable).
export function sigchldDisposition(pid: number, procRoot = "/proc"): SigchldDisposition {
  let status: string;
  try {
    status = readFileSync(`${procRoot}/${pid}/status`, "utf8");
  } catch {
    return "unknown";
  }
  const mask = (field: string): bigint | null => {
    const match = new RegExp(`^${field}:\\s*([0-9a-f]+)$`, "m").exec(status);
    return match === null ? null : BigInt(`0x${match[1]}`);
  };
  const [blocked, ignored, caught] = [mask("SigBlk"), mask("SigIgn"), mask("SigCgt")];
  if (blocked === null || ignored === null || caught === null) return "unknown";
  if ((blocked & SIGCHLD_BIT) !== 0n) return "blocked";
  if ((ignored & SIGCHLD_BIT) !== 0n) return "ignored";
  if ((caught & SIGCHLD_BIT) !== 0n) return "handled";
  return "default";
}

// Why a parent with this disposition kept its zombies after it was asked, for people.
export function whyNotReaped(disposition: SigchldDisposition): string {
  switch (disposition) {
    case "blocked":
      return "it blocks SIGCHLD, so it never hears the request to reap";
    case "ignored":
      return "it ignores SIGCHLD (set after these children ended), so the request to reap does nothing";
    case "handled":
      return "it handles SIGCHLD but its handler does not collect these children";
    case "default":
      return "it has no SIGCHLD handler: it collects its children only when its own code calls wait(), and it does not";
    case "unknown":
      return "its signal settings cannot be read";
  }
}
