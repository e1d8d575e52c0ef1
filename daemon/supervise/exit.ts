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

// Classify an exit as reported by the kernel (Node's 'exit' event): exit 0 or a
// polite signal is normal; any other code or a fatal signal is a crash.
export function classifyExit(code: number | null, signal: string | null): ExitStatus {
  if (signal !== null) {
    const kind = NORMAL_END_SIGNALS.has(signal) ? "normal" : "crash";
    return { kind, code: null, signal, description: `killed by ${signal}` };
  }
  if (code === null) return unknownExit();
  return {
    kind: code === 0 ? "normal" : "crash",
    code,
    signal: null,
    description: code === 0 ? "exited normally (code 0)" : `exited with code ${code}`,
  };
}

// The end of a process the daemon did not start: the kernel tells its status
// only to the parent, so nobody here can know it.
export function unknownExit(): ExitStatus {
  return {
    kind: "unknown",
    code: null,
    signal: null,
    description: "ended; its exit status cannot be known because selfheal did not start it",
  };
}
