// Tells a crash from a normal end, from what the kernel reported for a child.

/** Signals that end a program the ordinary way: asked to stop, or its reader went away. */
const NORMAL_END_SIGNALS = new Set(["SIGTERM", "SIGINT", "SIGHUP", "SIGPIPE"]);

export type ExitKind = "normal" | "crash" | "unknown";

export interface ExitStatus {
  kind: ExitKind;
  /** The exit code, or null when a signal ended it or the status cannot be known. */
  code: number | null;
  /** The signal's name (SIGSEGV), or null. */
  signal: string | null;
  /** What happened, for people: "exited with code 3", "killed by SIGSEGV". */
  description: string;
}

/** What a keeper adds to an exit: whether a core was dumped, and when it ended (it may have been while no daemon ran). */
export interface ExitDetails {
  coreDumped: boolean;
  /** When the program ended, in milliseconds since the epoch. */
  endedAtMs: number;
  /** It ended before this daemon started; this daemon learned it from the keeper's record. */
  whileAway: boolean;
}

// Classify an exit as reported by the kernel (Node's 'exit' event, or a
// keeper's record): exit 0 or a polite signal is normal; any other code or a
// fatal signal is a crash.
export function classifyExit(code: number | null, signal: string | null, details?: ExitDetails): ExitStatus {
  if (signal !== null) {
    const kind = NORMAL_END_SIGNALS.has(signal) ? "normal" : "crash";
    return { kind, code: null, signal, description: `killed by ${signal}${details?.coreDumped ? " (core dumped)" : ""}${awayNote(details)}` };
  }
  if (code === null) return unknownExit();
  return {
    kind: code === 0 ? "normal" : "crash",
    code,
    signal: null,
    description: `${code === 0 ? "exited normally (code 0)" : `exited with code ${code}`}${awayNote(details)}`,
  };
}

// " at 10:04:31, before selfheal was started again" for an end this daemon learned of afterwards.
// Not "while selfheal was not running": a daemon killed while a restart waited (the backoff) had been
// told of the end already, and the keeper's record does not say which it was.
function awayNote(details: ExitDetails | undefined): string {
  if (!details?.whileAway) return "";
  return ` at ${new Date(details.endedAtMs).toLocaleTimeString("en-GB")}, before selfheal was started again`;
}

// The end of a process the daemon did not start: the kernel tells its status
// only to the parent, so nobody here can know it.
export function unknownExit(why = "selfheal did not start it"): ExitStatus {
  return {
    kind: "unknown",
    code: null,
    signal: null,
    description: `ended; its exit status cannot be known because ${why}`,
  };
}
