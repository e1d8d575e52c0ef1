// Translate zod's validation issues into ConfigProblems a person can act on:
// the key, what was expected, the value received with its type, and a
// "did you mean" hint for misspelt keys.
import type { ConfigProblem } from "./errors.js";

import * as core from "zod/v4/core";

import { formatKeyPath } from "./errors.js";

type Issue = core.$ZodIssue;
type Path = readonly PropertyKey[];

/** Where a key sits in its source, 1-based; null when the source has no lines. */
export interface Position {
  line: number;
  column: number;
}

/** Finds the position of a key path (or of its nearest written ancestor). */
export type Locate = (path: Path) => Position | null;

/** A custom issue's params: `omitValue` for a message that already says what was wrong with the value (a size). */
export interface CustomParams {
  omitValue?: boolean;
}

/** Furthest edit distance at which an unknown key is taken for a typo. */
const MAX_HINT_DISTANCE = 2;
/** Longest rendering of a received value inside a message. */
const MAX_VALUE_CHARS = 60;

// Name the TOML type of a value, as a user would call it.
function typeName(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "array";
  if (value instanceof Date) return "date";
  if (typeof value === "object") return "table";
  if (typeof value === "number" && !Number.isFinite(value)) return "number";
  return typeof value;
}

// Render a received value shortly: -5 (number), "abc" (string), [1, 2] (array).
export function describeValue(value: unknown): string {
  let shown: string;
  if (value instanceof Date) shown = value.toISOString();
  else if (typeof value === "number" || typeof value === "bigint") shown = String(value);
  else shown = JSON.stringify(value, (_key, inner: unknown) => (typeof inner === "bigint" ? String(inner) : inner)) ?? String(value);
  if (shown.length > MAX_VALUE_CHARS) shown = `${shown.slice(0, MAX_VALUE_CHARS - 1)}…`;
  return `${shown} (${typeName(value)})`;
}

// The value at `path` inside `data`, or undefined when absent.
export function valueAt(data: unknown, path: Path): unknown {
  let current: unknown = data;
  for (const segment of path) {
    if (current === null || typeof current !== "object") return undefined;
    current = (current as Record<PropertyKey, unknown>)[segment];
  }
  return current;
}

const EXPECTED_WORDS: Record<string, string> = {
  number: "a number",
  int: "an integer",
  string: "a string",
  boolean: "true or false",
  array: "an array",
  object: "a table",
  record: "a table",
};

// The English for an expected zod type.
function expectedWord(expected: string): string {
  return EXPECTED_WORDS[expected] ?? expected;
}

// Describe a size bound: "a number greater than 0", "at least 1 element".
function boundText(origin: string, bound: number | bigint, inclusive: boolean, upper: boolean): string {
  if (origin === "number" || origin === "int" || origin === "bigint") {
    const relation = upper ? (inclusive ? "less than or equal to" : "less than") : inclusive ? "greater than or equal to" : "greater than";
    return `expected a number ${relation} ${bound}`;
  }
  const unit = origin === "string" ? "character" : "element";
  if (!upper && Number(bound) === 1) return origin === "string" ? "must not be empty" : "expected at least one element";
  return `expected ${upper ? "at most" : "at least"} ${bound} ${unit}${Number(bound) === 1 ? "" : "s"}`;
}

// The Levenshtein distance between two short keys.
function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitution = (previous[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1);
      current.push(Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, substitution));
    }
    previous = current;
  }
  return previous[b.length] ?? 0;
}

// The known key an unknown one was probably meant to be, if any is close enough.
export function suggestKey(unknown: string, known: readonly string[]): string | null {
  const lower = unknown.toLowerCase().replaceAll("-", "_");
  let best: string | null = null;
  let bestDistance = MAX_HINT_DISTANCE + 1;
  for (const candidate of known) {
    const distance = editDistance(lower, candidate);
    if (distance < bestDistance) [best, bestDistance] = [candidate, distance];
  }
  if (best !== null) return best;
  const extensions = known.filter((candidate) => candidate.startsWith(lower) && lower.length >= 3);
  return extensions.length === 1 ? (extensions[0] ?? null) : null;
}

/** Any zod schema (the core type both of zod's builds extend). */
type Schema = core.$ZodType;

// Step from a schema into the schema of one child key, through optional/default wrappers.
function childSchema(schema: Schema, segment: PropertyKey): Schema | null {
  const inner = unwrap(schema);
  if (inner instanceof core.$ZodObject) return inner._zod.def.shape[String(segment)] ?? null;
  if (inner instanceof core.$ZodRecord) return inner._zod.def.valueType;
  if (inner instanceof core.$ZodArray) return inner._zod.def.element;
  return null;
}

// Strip optional, default and prefault wrappers off a schema.
function unwrap(schema: Schema): Schema {
  let current = schema;
  while (current instanceof core.$ZodOptional || current instanceof core.$ZodDefault || current instanceof core.$ZodPrefault) {
    current = current._zod.def.innerType;
  }
  return current;
}

// The keys a table at `path` may hold according to `schema`.
export function knownKeysAt(schema: Schema, path: Path): string[] {
  let current: Schema | null = schema;
  for (const segment of path) {
    if (current === null) return [];
    current = childSchema(current, segment);
  }
  if (current === null) return [];
  const inner = unwrap(current);
  return inner instanceof core.$ZodObject ? Object.keys(inner._zod.def.shape) : [];
}

/** Extra advice for an unknown key, given its table's path; may return null. */
export type UnknownKeyAdvice = (path: Path, key: string) => string | null;

/** How describeIssues words unknown keys. */
export interface DescribeOptions {
  /** Extra advice for an unknown key with no close match. */
  advise?: UnknownKeyAdvice;
  /** What an unknown key at the top is called: "key", or "section or key" for a whole file. */
  topLevelNoun?: string;
}

interface Context {
  schema: Schema;
  data: unknown;
  advise: UnknownKeyAdvice;
  topLevelNoun: string;
}

/** A problem before it is placed in a file: its full key path and message. */
export interface PathProblem {
  path: PropertyKey[];
  message: string;
}

// The message for an unknown key, with a hint when one fits.
function unknownKeyProblem(ctx: Context, path: Path, key: string): PathProblem {
  const suggestion = suggestKey(key, knownKeysAt(ctx.schema, path));
  const advice = suggestion === null ? ctx.advise(path, key) : `did you mean "${suggestion}"?`;
  const what = `unknown ${path.length === 0 ? ctx.topLevelNoun : "key"}`;
  return { path: [...path, key], message: advice === null ? what : `${what}; ${advice}` };
}

// Explain a union failure by the branch that got furthest, else by listing what was accepted.
function unionProblems(ctx: Context, issue: core.$ZodIssueInvalidUnion, path: PropertyKey[]): PathProblem[] {
  const deeper = issue.errors.find((branch) => branch.some((inner) => inner.path.length > 0 || inner.code !== "invalid_type"));
  if (deeper) return deeper.flatMap((inner) => issueProblems(ctx, { ...inner, path: [...path, ...inner.path] } as Issue));
  const words = issue.errors.flatMap((branch) => branch.map((inner) => (inner.code === "invalid_type" ? expectedWord(inner.expected) : inner.message)));
  const expected = `expected ${words.map((word) => word.replace(/^expected /, "")).join(" or ")}`;
  const value = valueAt(ctx.data, path);
  return [{ path, message: value === undefined ? `required key is missing (${expected})` : `${expected}, got ${describeValue(value)}` }];
}

// The message for one issue, without the received value.
function issueText(issue: Issue): string {
  switch (issue.code) {
    case "invalid_type":
      return `expected ${expectedWord(issue.expected)}`;
    case "too_small":
      return boundText(issue.origin, issue.minimum, issue.inclusive ?? true, false);
    case "too_big":
      return issue.origin === "int" && Number(issue.maximum) === Number.MAX_SAFE_INTEGER
        ? "expected an integer of a sensible size"
        : boundText(issue.origin, issue.maximum, issue.inclusive ?? true, true);
    case "invalid_value":
      return `expected one of ${issue.values.map((value) => JSON.stringify(value)).join(", ")}`;
    case "invalid_format":
    case "custom":
      return issue.message;
    case "not_multiple_of":
      return `expected a multiple of ${issue.divisor}`;
    default:
      return issue.message;
  }
}

// Turn one zod issue into one or more problems.
function issueProblems(ctx: Context, issue: Issue): PathProblem[] {
  const path = [...issue.path];
  if (issue.code === "unrecognized_keys") return issue.keys.map((key) => unknownKeyProblem(ctx, path, key));
  if (issue.code === "invalid_union") return unionProblems(ctx, issue, path);
  if (issue.code === "invalid_key") {
    const reason = issue.issues.map((inner) => inner.message).join("; ");
    return [{ path, message: `invalid name ${JSON.stringify(path[path.length - 1])}: ${reason}` }];
  }
  const value = valueAt(ctx.data, path);
  if (value === undefined && issue.code === "invalid_type") {
    return [{ path, message: `required key is missing (${issueText(issue)})` }];
  }
  if (issue.code === "custom" && (issue.params as CustomParams | undefined)?.omitValue === true) return [{ path, message: issueText(issue) }];
  return [{ path, message: `${issueText(issue)}, got ${describeValue(value)}` }];
}

// Translate zod issues about `data` into path-keyed problems.
export function describeIssues(
  schema: Schema,
  data: unknown,
  issues: readonly Issue[],
  options: DescribeOptions = {},
): PathProblem[] {
  const ctx: Context = { schema, data, advise: options.advise ?? (() => null), topLevelNoun: options.topLevelNoun ?? "key" };
  return issues.flatMap((issue) => issueProblems(ctx, issue));
}

// Place path-keyed problems in a file, in line order; `prefix` is prepended to every key.
export function placeProblems(problems: readonly PathProblem[], file: string, locate: Locate, prefix: Path = []): ConfigProblem[] {
  const placed = problems.map((problem) => {
    const position = locate(problem.path);
    return {
      file,
      line: position?.line ?? null,
      column: position?.column ?? null,
      key: formatKeyPath([...prefix, ...problem.path]),
      message: problem.message,
    };
  });
  return placed.sort((a, b) => (a.line ?? 0) - (b.line ?? 0) || (a.column ?? 0) - (b.column ?? 0));
}
