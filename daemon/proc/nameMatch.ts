// The two ways a process shows a program's name besides comm, exe and argv[0]:
// through an interpreter (the program is its script) and cut to comm's 15
// characters (a long name). Both are confirmed by what else the process tells,
// so that an unrelated process of the same interpreter, or a program whose long
// name merely shares the first 15 characters, never matches.
import type { ProcessSample, ProcessSource } from "./types.js";
import { basename } from "node:path";
import { isInterpreter, scriptOf } from "./interpreters.js";

/** The kernel keeps this many characters of a program's name in comm. */
export const COMM_LENGTH = 15;

/**
 * Script names found, by the argv they were read from: the scanner keeps one argv array per
 * process for its life, so each process's argv is read for a script once, not once per policy
 * and scan (a tick tries every policy not running against every process).
 */
const scriptNames = new WeakMap<readonly string[], string | null>();

// The basename of the script a process runs through an interpreter (by its exe, or argv[0] when
// the exe cannot be read), or null when it runs none.
function scriptName(sample: ProcessSample, source: ProcessSource): string | null {
  const argv = source.readCmdline(sample.pid);
  if (argv === null || argv.length < 2) return null;
  const known = scriptNames.get(argv);
  if (known !== undefined) return known;
  const interpreter = source.readExeName(sample.pid) ?? argv[0]!;
  const script = isInterpreter(interpreter) ? scriptOf(interpreter, argv.slice(1)) : null;
  const name = script === null ? null : basename(script);
  scriptNames.set(argv, name);
  return name;
}

// A program run by an interpreter (bash, python3, node...): it is named by its script.
export function matchesByScript(name: string, sample: ProcessSample, source: ProcessSource): boolean {
  return scriptName(sample, source) === name;
}

// A long name seen cut to comm's 15 characters (the kernel names a shebang script's process
// after the script): it matches unless the process gives another full name starting the same way.
export function matchesByCommPrefix(name: string, sample: ProcessSample, source: ProcessSource): boolean {
  if (name.length <= COMM_LENGTH || sample.comm !== name.slice(0, COMM_LENGTH)) return false;
  const argv0 = source.readCmdline(sample.pid)?.[0];
  const fullNames = [source.readExeName(sample.pid), argv0 === undefined ? null : basename(argv0), scriptName(sample, source)];
  return !fullNames.some((full) => full !== null && full !== name && full.startsWith(sample.comm));
}
