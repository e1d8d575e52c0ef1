// Decides which processes a policy's `match` names: a program name (as comm,
// executable or argv[0] shows it) or a /regex/ over the command line.

import type { ProcessSample, ProcessSnapshot, ProcessSource } from "./types.js";
import path from "node:path";
import { matchesByCommPrefix, matchesByScript } from "./nameMatch.js";

const ZOMBIE_STATE = "Z";
/** Flags that make RegExp.test stateful; a match must give the same answer every time. */
const STATEFUL_REGEX_FLAGS = /[gy]/g;
/** Compiled matches kept for repeated lookups; policies are few, so this is never reached in practice. */
const COMPILED_CACHE_LIMIT = 256;

/** A parsed `match`: how to recognise the processes it names. */
export type CompiledMatch = { kind: "regex"; text: string; regex: RegExp } | { kind: "name"; text: string };

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
  const lastSlash = match.lastIndexOf("/");
  if (!match.startsWith("/") || lastSlash === 0) return { kind: "name", text: match };
  const pattern = match.slice(1, lastSlash);
  const flags = match.slice(lastSlash + 1).replace(STATEFUL_REGEX_FLAGS, "");
  if (pattern.length === 0) {
    throw new Error(`Process match "${match}" is an empty /regex/, which would match every process`);
  }
  try {
    return { kind: "regex", text: match, regex: new RegExp(pattern, flags) };
  } catch (error) {
    throw new Error(
      `Process match "${match}" is not a valid /regex/flags (${(error as Error).message}); ` +
        `write a program name like "gedit" or a JavaScript regex like "/^python3 .*server\\.py/i"`,
      { cause: error },
    );
  }
}

// True when the process is one that match names; reads argv/exe through the source (cached there).
export function matchesProcess(match: string | CompiledMatch, sample: ProcessSample, source: ProcessSource): boolean {
  if (sample.state === ZOMBIE_STATE || sample.kernelThread) return false;
  const compiled = typeof match === "string" ? compiledFor(match) : match;
  if (compiled.kind === "regex") {
    const argv = source.readCmdline(sample.pid);
    return argv !== null && compiled.regex.test(argv.join(" "));
  }
  return matchesName(compiled.text, sample, source);
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
