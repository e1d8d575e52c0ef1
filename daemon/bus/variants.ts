// Typed D-Bus values: constructors that never hand the marshaller a value it
// would reject (a negative u, a NaN d), and the conversion of caller-supplied
// a{sv} trees into plain values with bounds on their size.
import { Variant } from "./dbus.js";

export { Variant } from "./dbus.js";
export type VariantDict = Record<string, Variant>;

const UINT32_MAX = 0xffff_ffff;
const INT32_MIN = -0x8000_0000;
const INT32_MAX = 0x7fff_ffff;
const UINT64_MAX = 2n ** 64n - 1n;
const MICROSECONDS_PER_MS = 1000;

/** How deep a caller's nested variants, arrays and dicts may go. */
export const MAX_INPUT_DEPTH = 8;
/** The longest string accepted inside a caller's a{sv} (a command line, a path). */
export const MAX_INPUT_STRING = 64 * 1024;
/** The most entries accepted in one array or dict of a caller's a{sv}. */
export const MAX_INPUT_ENTRIES = 1024;
/** The most characters of text (strings and keys together) accepted in one caller's a{sv}. */
export const MAX_INPUT_TEXT = 1024 * 1024;

/** A caller's argument that cannot be used: answered with org.freedesktop.DBus.Error.InvalidArgs. */
export class InvalidArgsError extends Error {
  override readonly name = "InvalidArgsError";
}

function finite(value: number): number {
  return Number.isFinite(value) ? value : 0;
}

// A uint32, clamped into range (0 for anything not a number).
export function uint32(value: number): number {
  return Math.min(UINT32_MAX, Math.max(0, Math.round(finite(value))));
}

export function int32(value: number): number {
  return Math.min(INT32_MAX, Math.max(INT32_MIN, Math.round(finite(value))));
}

// A uint64 as the BigInt dbus-next marshals.
export function uint64(value: number): bigint {
  const whole = Math.round(finite(value));
  if (whole <= 0) return 0n;
  const big = BigInt(whole);
  return big > UINT64_MAX ? UINT64_MAX : big;
}

// Milliseconds since the epoch as the contract's t microseconds.
export function usecFromMs(ms: number): bigint {
  return uint64(ms * MICROSECONDS_PER_MS);
}

export const v = {
  s: (value: string): Variant => new Variant("s", value),
  b: (value: boolean): Variant => new Variant("b", value),
  u: (value: number): Variant => new Variant("u", uint32(value)),
  i: (value: number): Variant => new Variant("i", int32(value)),
  d: (value: number): Variant => new Variant("d", finite(value)),
  t: (value: number): Variant => new Variant("t", uint64(value)),
  usec: (ms: number): Variant => new Variant("t", usecFromMs(ms)),
  as: (value: readonly string[]): Variant => new Variant("as", [...value]),
  au: (value: readonly number[]): Variant => new Variant("au", value.map(uint32)),
  dict: (value: VariantDict): Variant => new Variant("a{sv}", value),
  stringDict: (value: Record<string, string>): Variant => new Variant("a{ss}", { ...value }),
  doubleDict: (value: Record<string, number>): Variant =>
    new Variant("a{sd}", Object.fromEntries(Object.entries(value).map(([key, inner]) => [key, finite(inner)]))),
};

// A plain JSON-like value as a variant, choosing the natural type (used for keys without a fixed type).
export function variantOf(value: unknown): Variant {
  if (typeof value === "string") return v.s(value);
  if (typeof value === "boolean") return v.b(value);
  if (typeof value === "bigint") return new Variant("x", value);
  if (typeof value === "number") return Number.isSafeInteger(value) ? new Variant("x", BigInt(value)) : v.d(value);
  if (Array.isArray(value) && value.every((item) => typeof item === "string")) return v.as(value as string[]);
  if (Array.isArray(value)) return new Variant("av", value.map(variantOf));
  if (value !== null && typeof value === "object") {
    return v.dict(Object.fromEntries(Object.entries(value).map(([key, inner]) => [key, variantOf(inner)])));
  }
  return v.s(value === null || value === undefined ? "" : String(value));
}

// A short, printable preview of a caller's value for an error message.
export function preview(value: unknown): string {
  const text = typeof value === "string" ? value : String(value);
  const shown = text.length > 40 ? `${text.slice(0, 40)}…` : text;
  return `${JSON.stringify(shown)}${text.length > 40 ? ` (${text.length} characters)` : ""}`;
}

// Exactly a Variant: a dict whose "__proto__" key dbus-next assigned may inherit from one.
function isVariant(value: unknown): value is Variant {
  return value !== null && typeof value === "object" && Object.getPrototypeOf(value) === Variant.prototype;
}

/** What is left of MAX_INPUT_TEXT while one value is converted. */
interface TextBudget {
  left: number;
}

// Count `length` characters against the budget; refuse the whole value once it is spent.
function spend(budget: TextBudget, length: number): void {
  budget.left -= length;
  if (budget.left < 0) throw new InvalidArgsError(`the value holds more than ${MAX_INPUT_TEXT} characters of text in all; at most ${MAX_INPUT_TEXT} are accepted`);
}

// Turn a caller's a{sv} (variants, bigints, nested dicts) into plain values, refusing oversized input
// and the key "__proto__" (which a plain object would drop or take for its prototype).
export function plainFromVariants(value: unknown, path = "", depth = 0, budget: TextBudget = { left: MAX_INPUT_TEXT }): unknown {
  if (depth > MAX_INPUT_DEPTH) throw new InvalidArgsError(`${path || "the value"} is nested more than ${MAX_INPUT_DEPTH} levels deep`);
  if (isVariant(value)) return plainFromVariants(value.value, path, depth + 1, budget);
  if (typeof value === "bigint") return Number.isSafeInteger(Number(value)) ? Number(value) : value;
  if (typeof value === "string") {
    if (value.length > MAX_INPUT_STRING) throw new InvalidArgsError(`${path || "a string"} is ${value.length} characters long; at most ${MAX_INPUT_STRING} are accepted`);
    spend(budget, value.length);
    return value;
  }
  if (Buffer.isBuffer(value)) throw new InvalidArgsError(`${path || "a value"} is a byte array (ay); give text as a string (s)`);
  if (Array.isArray(value)) {
    if (value.length > MAX_INPUT_ENTRIES) throw new InvalidArgsError(`${path || "an array"} has ${value.length} entries; at most ${MAX_INPUT_ENTRIES} are accepted`);
    return value.map((item, index) => plainFromVariants(item, `${path}[${index}]`, depth + 1, budget));
  }
  if (value !== null && typeof value === "object") {
    const proto: unknown = Object.getPrototypeOf(value);
    if (proto !== Object.prototype && proto !== null) throw new InvalidArgsError(`${path || "a dict"} is not a dict`);
    const entries = Object.entries(value);
    if (entries.length > MAX_INPUT_ENTRIES) throw new InvalidArgsError(`${path || "a dict"} has ${entries.length} entries; at most ${MAX_INPUT_ENTRIES} are accepted`);
    const out: Record<string, unknown> = Object.create(null) as Record<string, unknown>;
    for (const [key, inner] of entries) {
      if (key === "__proto__") throw new InvalidArgsError(`${path || "a dict"} has a key named "__proto__", which is not allowed`);
      if (key.length > MAX_INPUT_STRING) throw new InvalidArgsError(`${path || "a dict"} has a key of ${key.length} characters; at most ${MAX_INPUT_STRING} are accepted`);
      spend(budget, key.length);
      out[key] = plainFromVariants(inner, path === "" ? key : `${path}.${key}`, depth + 1, budget);
    }
    return { ...out };
  }
  return value;
}
