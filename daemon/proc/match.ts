// Decides which processes a policy's `match` names: a program name (as comm,
// executable or argv[0] shows it) or a /regex/ over the command line, matched
// in linear time (pattern.ts).

import type { ProcessSample, ProcessSnapshot, ProcessSource } from "./types.js";
import path from "node:path";
import { matchesByCommPrefix, matchesByScript } from "./nameMatch.js";
import { compileLinear, PatternError, splitSlashPattern, type LinearRegex } from "./pattern.js";

const ZOMBIE_STATE = "Z";
/** Compiled matches kept for repeated lookups; policies are few, so this is never reached in practice. */
const COMPILED_CACHE_LIMIT = 256;

/** A parsed `match`: how to recognise the processes it names. */
export type CompiledMatch = { kind: "regex"; text: string; regex: LinearRegex } | { kind: "name"; text: string };

export interface FindMatchingOptions {
  /** Only processes owned by this user. */
  uid?: number;
}

const compiledCache = new Map<string, CompiledMatch>();

// Parses a match; throws an Error a person can act on when it is empty or an invalid regex.
export function compileMatch(match: string): CompiledMatch {
  if (typeof match !== "string" || match.length === 0) {
    throw new Error(
      `Process match must be a program name like "gedit" or a /regex/, got ${JSON.stringify(match)} (${typeof match})`,
    );
  }
  const parts = splitSlashPattern(match);
  if (parts === null) return { kind: "name", text: match };
  try {
    return { kind: "regex", text: match, regex: compileLinear(parts.pattern, parts.flags) };
  } catch (error) {
    if (!(error instanceof PatternError)) throw error;
    throw new Error(`Process match "${match}" ${error.message}`, { cause: error });
  }
}

// True when the process is one that match names; reads argv/exe through the source (cached there).
export function matchesProcess(match: string | CompiledMatch, sample: ProcessSample, source: ProcessSource): boolean {
  if (sample.state === ZOMBIE_STATE || sample.kernelThread) return false;
  const compiled = typeof match === "string" ? compiledFor(match) : match;
  if (compiled.kind === "regex") {
    const argv = source.readCmdline(sample.pid);
    return argv !== null && compiled.regex.test(joinedCommandLine(argv));
  }
  return matchesName(compiled.text, sample, source);
}

/** Command lines joined once per argv array (sources cache argv per process), not once per policy and scan. */
const joinedLines = new WeakMap<readonly string[], string>();

// argv joined with spaces, as a /regex/ sees it.
function joinedCommandLine(argv: readonly string[]): string {
  let line = joinedLines.get(argv);
  if (line === undefined) {
    line = argv.join(" ");
    joinedLines.set(argv, line);
  }
  return line;
}

// Every process match names, oldest first (ties by pid), optionally only one user's.
export function findMatching(
  match: string | CompiledMatch,
  snapshot: ProcessSnapshot,
  source: ProcessSource,
  options: FindMatchingOptions = {},
): ProcessSample[] {
  const compiled = typeof match === "string" ? compiledFor(match) : match;
  const found: ProcessSample[] = [];
  for (const sample of snapshot.processes.values()) {
    if (options.uid !== undefined && sample.uid !== options.uid) continue;
    if (matchesProcess(compiled, sample, source)) found.push(sample);
  }
  return found.sort((a, b) => a.startTicks - b.startTicks || a.pid - b.pid);
}

// A name matches comm, the executable's basename, argv[0]'s basename, the script an interpreter
// runs, or a long name's first 15 characters in comm (see nameMatch.ts); comm alone is free, the
// others cost a read once per process.
function matchesName(name: string, sample: ProcessSample, source: ProcessSource): boolean {
  if (sample.comm === name) return true;
  // comm holds only a name's first 15 characters: a long name then needs exe or argv[0] to confirm,
  // exactly as a process whose comm differs altogether (renamed, or started through a symlink).
  if (source.readExeName(sample.pid) === name) return true;
  const argv0 = source.readCmdline(sample.pid)?.[0];
  if (argv0 !== undefined && path.basename(argv0) === name) return true;
  return matchesByScript(name, sample, source) || matchesByCommPrefix(name, sample, source);
}

// The compiled form of match, compiled once.
function compiledFor(match: string): CompiledMatch {
  let compiled = compiledCache.get(match);
  if (compiled === undefined) {
    compiled = compileMatch(match);
    if (compiledCache.size >= COMPILED_CACHE_LIMIT) compiledCache.clear();
    compiledCache.set(match, compiled);
  }
  return compiled;
}
