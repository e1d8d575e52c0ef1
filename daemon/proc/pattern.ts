// A policy's `/regex/flags` match, compiled for a linear-time engine: RE2
// (through re2js, a pure JavaScript port), so that testing it against a
// command line costs time in proportion to the line's length whatever the
// pattern. JavaScript's own engine backtracks: /(a+)+$/ against a line of a's
// runs for hours. What RE2 cannot do in linear time (backreferences,
// lookahead, lookbehind) is refused with the reason, and so is a pattern that
// would match every command line.
import type { RE2JS } from "re2js";

import { re2js } from "./re2js.js";

/** A compiled `/regex/`: stateless, so the same line always gets the same answer. */
export interface LinearRegex {
  /** The pattern as written between the slashes. */
  readonly source: string;
  /** The flags kept (i, m, s; g and y are dropped, u is implied). */
  readonly flags: string;
  test(text: string): boolean;
}

/** A `/regex/` that cannot be used; the message says why, without naming the key (callers do). */
export class PatternError extends Error {
  override readonly name = "PatternError";
}

/** The longest pattern accepted between the slashes. */
export const MAX_PATTERN_LENGTH = 1024;
/**
 * The most instructions a compiled pattern may have: matching costs up to this
 * many steps per character, so a counted repetition like [\s\S]{5000} would be
 * linear but slow. Ordinary command-line patterns need a few dozen.
 */
export const MAX_PROGRAM_SIZE = 1000;

/** Flags that make RegExp.test stateful in JavaScript; a match must not be, so they are dropped. */
const DROPPED_FLAGS = new Set(["g", "y"]);
/** u changes nothing here: RE2 always matches by Unicode code point. */
const IMPLIED_FLAGS = new Set(["u"]);
/** The JavaScript flags RE2 can honour, as re2js's flag names (its engine is loaded with the first pattern: re2js.ts). */
const RE2_FLAGS: Record<string, "CASE_INSENSITIVE" | "MULTILINE" | "DOTALL"> = { i: "CASE_INSENSITIVE", m: "MULTILINE", s: "DOTALL" };

/**
 * Strings no useful pattern matches all of: the empty command line, and one
 * character of each kind. A pattern matching the empty string matches every
 * line (an unanchored search finds it anywhere); one matching each of these
 * single characters (like /./ or /[\s\S]/) matches every line that is not empty.
 */
const EMPTY_PROBE = "";
const CHARACTER_PROBES = ["a", "Z", "7", "-", "/", " ", "é", "\u4e2d"];

/** re2js keeps its compiled program here; read only to bound its size (a test fails if this moves). */
interface CompiledProgram {
  re2Input?: { prog?: { numInst?: () => number } };
}

// Split "/pattern/flags" into its parts; null when `match` is a plain program name.
// The rule: a leading "/" and another "/" later make a regex (so "/usr/bin/x" is a regex with flags "x").
export function splitSlashPattern(match: string): { pattern: string; flags: string } | null {
  const lastSlash = match.lastIndexOf("/");
  if (!match.startsWith("/") || lastSlash === 0) return null;
  return { pattern: match.slice(1, lastSlash), flags: match.slice(lastSlash + 1) };
}

// Compile a pattern and its JavaScript flags for linear-time matching; throws PatternError saying what to change.
export function compileLinear(pattern: string, flags: string): LinearRegex {
  if (pattern.length === 0) throw new PatternError("is an empty /regex/, which would match every command line");
  if (pattern.length > MAX_PATTERN_LENGTH) {
    throw new PatternError(`is a /regex/ of ${pattern.length} characters; at most ${MAX_PATTERN_LENGTH} are accepted`);
  }
  checkJavaScriptSyntax(pattern, flags);
  const unsupported = nonLinearFeature(pattern);
  if (unsupported !== null) {
    throw new PatternError(`uses ${unsupported}, which cannot be matched in linear time; match on the command line's text alone`);
  }
  const kept = [...new Set(flags)].filter((flag) => !DROPPED_FLAGS.has(flag) && !IMPLIED_FLAGS.has(flag));
  const refused = kept.filter((flag) => RE2_FLAGS[flag] === undefined);
  if (refused.length > 0) throw new PatternError(`has the flag(s) "${refused.join("")}", which a match does not support; use i, m or s`);
  const compiled = compileRe2(pattern, kept);
  const regex: LinearRegex = { source: pattern, flags: kept.sort().join(""), test: (text) => compiled.test(text) };
  refuseMatchEverything(regex);
  return regex;
}

// The pattern must be a valid JavaScript regex first: that is the syntax people write and the docs promise.
function checkJavaScriptSyntax(pattern: string, flags: string): void {
  try {
    // Only parsed, never run: JavaScript's engine is not used for matching.
    new RegExp(pattern, flags);
  } catch (error) {
    const reason = String((error as Error).message).replace(/^Invalid regular expression: \/.*\/[a-z]*: /s, "");
    throw new PatternError(`is not a valid regular expression (${reason}); write /pattern/flags or a plain name`);
  }
}

// The first construct of a JavaScript pattern that no linear-time engine can match, or null.
// Scans outside character classes, skipping escaped characters.
function nonLinearFeature(pattern: string): string | null {
  let inClass = false;
  for (let at = 0; at < pattern.length; at++) {
    const char = pattern[at];
    if (char === "\\") {
      const next = pattern[at + 1] ?? "";
      if (!inClass && (/[1-9]/.test(next) || (next === "k" && pattern[at + 2] === "<"))) return "a backreference";
      at += 1;
    } else if (inClass) {
      if (char === "]") inClass = false;
    } else if (char === "[") {
      inClass = true;
    } else if (char === "(" && /^\(\?<?[=!]/.test(pattern.slice(at, at + 4))) {
      return "a lookahead or lookbehind";
    }
  }
  return null;
}

// Compile with RE2 (JavaScript escapes like \u00e9 translated to RE2's), bounding the program's size.
function compileRe2(pattern: string, flags: readonly string[]): RE2JS {
  let compiled: RE2JS;
  try {
    const engine = re2js();
    const bits = flags.reduce((all, flag) => {
      const name = RE2_FLAGS[flag];
      return name === undefined ? all : all | engine[name];
    }, 0);
    compiled = engine.compile(engine.translateRegExp(pattern), bits);
  } catch (error) {
    const reason = String((error as Error).message).replace(/^error parsing regexp: /, "");
    throw new PatternError(`cannot be matched in linear time (${reason}); rewrite it without that construct`);
  }
  const size = (compiled as unknown as CompiledProgram).re2Input?.prog?.numInst?.();
  if (size === undefined) throw new Error("re2js no longer exposes its program size: selfheal cannot bound a match's cost");
  if (size > MAX_PROGRAM_SIZE) {
    throw new PatternError(
      `compiles to ${size} steps per character (at most ${MAX_PROGRAM_SIZE}); a large counted repetition like {1000} does that, use + or * instead`,
    );
  }
  return compiled;
}

// Refuse a pattern that matches an empty command line or any single character: it would adopt every process.
function refuseMatchEverything(regex: LinearRegex): void {
  if (regex.test(EMPTY_PROBE)) {
    throw new PatternError("would match every command line (it matches an empty one); name something the command line contains");
  }
  if (CHARACTER_PROBES.every((probe) => regex.test(probe))) {
    throw new PatternError("would match every command line (it matches any single character); name something the command line contains");
  }
}
