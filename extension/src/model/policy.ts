// The preferences' policy editor: a policy as GetPolicies gives it (config.toml's keys) turned
// into form fields and back into SetPolicy's a{sv}. The daemon validates; the form only refuses
// what it cannot send at all (an unbalanced quote in the command).

import type { Dict } from "./records.js";
import type { Translator } from "./i18n.js";
import { interpolate } from "./i18n.js";
import { booleanOf, numberOf, stringOf } from "./records.js";

export const RESTART_MODES = ["on-failure", "always", "never"] as const;
export const VIOLATION_ACTIONS = ["restart", "kill", "notify"] as const;
export const LIMIT_SCOPES = ["tree", "process"] as const;

export type RestartMode = (typeof RESTART_MODES)[number];
export type ViolationAction = (typeof VIOLATION_ACTIONS)[number];
export type LimitScope = (typeof LIMIT_SCOPES)[number];

export interface PolicyForm {
  name: string;
  /** The argv as a person types it: words, with quotes around words that hold spaces. */
  command: string;
  /** Empty: the daemon's default (the command's name). */
  match: string;
  /** 0: no limit. */
  cpuLimit: number;
  /** 0: no limit. */
  memoryLimitMb: number;
  restart: RestartMode;
  onViolation: ViolationAction;
  scope: LimitScope;
  /** Scans over the CPU limit before acting. */
  sustain: number;
  /** Seconds over the memory limit before acting (memory is looked at between scans too). */
  memorySustain: number;
  autostart: boolean;
  cooldownMaxRestarts: number;
  cooldownWindow: number;
  cooldownPause: number;
}

/** What config.toml means when it leaves a key out (the daemon's defaults). */
export const POLICY_DEFAULTS: Omit<PolicyForm, "name" | "command"> = {
  match: "",
  cpuLimit: 0,
  memoryLimitMb: 0,
  restart: "on-failure",
  onViolation: "restart",
  scope: "tree",
  sustain: 2,
  memorySustain: 0.05,
  autostart: false,
  cooldownMaxRestarts: 5,
  cooldownWindow: 60,
  cooldownPause: 120,
};

/** config.toml keys the form edits; any other key of a policy is sent back as it came. */
export const FORM_KEYS = [
  "command",
  "match",
  "cpu_limit",
  "memory_limit_mb",
  "restart",
  "on_violation",
  "scope",
  "sustain",
  "memory_sustain",
  "autostart",
  "cooldown",
] as const;

/** A command with an unclosed quote: `quote` says which, for a message in the user's language. */
export class CommandSyntaxError extends Error {
  readonly quote: string;

  constructor(quote: string) {
    super(`the command has an unclosed ${quote} quote`);
    this.quote = quote;
  }
}

// Splits a command line into argv the way a POSIX shell splits words, without expanding anything.
export function splitCommand(line: string): string[] {
  const words: string[] = [];
  let word = "";
  let inWord = false;
  let quote: '"' | "'" | null = null;
  for (let i = 0; i < line.length; i++) {
    const c = line.charAt(i);
    if (quote === "'") {
      if (c === "'") quote = null;
      else word += c;
    } else if (quote === '"') {
      if (c === '"') quote = null;
      else if (c === "\\" && i + 1 < line.length && '"\\$`'.includes(line.charAt(i + 1))) word += line.charAt(++i);
      else word += c;
    } else if (c === "'" || c === '"') {
      quote = c;
      inWord = true;
    } else if (c === "\\" && i + 1 < line.length) {
      word += line.charAt(++i);
      inWord = true;
    } else if (/\s/.test(c)) {
      if (inWord) words.push(word);
      word = "";
      inWord = false;
    } else {
      word += c;
      inWord = true;
    }
  }
  if (quote !== null) throw new CommandSyntaxError(quote);
  if (inWord) words.push(word);
  return words;
}

// Joins argv back into one line that splitCommand reads as the same words.
export function joinCommand(argv: readonly string[]): string {
  return argv.map((word) => (word !== "" && /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`)).join(" ");
}

function oneOf<T extends string>(values: readonly T[], value: string, fallback: T): T {
  return (values as readonly string[]).includes(value) ? (value as T) : fallback;
}

// A policy from GetPolicies (unpacked) as form fields; missing keys take the daemon's defaults.
export function formFromPolicy(name: string, policy: Dict): PolicyForm {
  const command = Array.isArray(policy.command) ? policy.command.filter((word): word is string => typeof word === "string") : [name];
  const cooldown = (typeof policy.cooldown === "object" && policy.cooldown !== null ? policy.cooldown : {}) as Dict;
  const has = (dict: Dict, key: string): boolean => dict[key] !== undefined;
  return {
    name,
    command: joinCommand(command),
    match: stringOf(policy, "match"),
    cpuLimit: numberOf(policy, "cpu_limit"),
    memoryLimitMb: numberOf(policy, "memory_limit_mb"),
    restart: oneOf(RESTART_MODES, stringOf(policy, "restart"), POLICY_DEFAULTS.restart),
    onViolation: oneOf(VIOLATION_ACTIONS, stringOf(policy, "on_violation"), POLICY_DEFAULTS.onViolation),
    scope: oneOf(LIMIT_SCOPES, stringOf(policy, "scope"), POLICY_DEFAULTS.scope),
    sustain: has(policy, "sustain") ? numberOf(policy, "sustain") : POLICY_DEFAULTS.sustain,
    memorySustain: has(policy, "memory_sustain") ? numberOf(policy, "memory_sustain") : POLICY_DEFAULTS.memorySustain,
    autostart: has(policy, "autostart") ? booleanOf(policy, "autostart") : POLICY_DEFAULTS.autostart,
    cooldownMaxRestarts: has(cooldown, "max_restarts") ? numberOf(cooldown, "max_restarts") : POLICY_DEFAULTS.cooldownMaxRestarts,
    cooldownWindow: has(cooldown, "window") ? numberOf(cooldown, "window") : POLICY_DEFAULTS.cooldownWindow,
    cooldownPause: has(cooldown, "pause") ? numberOf(cooldown, "pause") : POLICY_DEFAULTS.cooldownPause,
  };
}

/** One a{sv} entry with the D-Bus type of its value; nested dictionaries are entries again. */
export interface TypedEntry {
  key: string;
  signature: string;
  value: unknown;
}

// The form as SetPolicy's a{sv}, with config.toml's keys; limits of 0 and an empty match are left
// out (no limit, the default match). Throws CommandSyntaxError for a command it cannot split.
export function policyEntries(form: PolicyForm): TypedEntry[] {
  const argv = splitCommand(form.command);
  const entries: TypedEntry[] = [];
  if (argv.length > 0) entries.push({ key: "command", signature: "as", value: argv });
  if (form.match.trim() !== "") entries.push({ key: "match", signature: "s", value: form.match.trim() });
  if (form.cpuLimit > 0) entries.push({ key: "cpu_limit", signature: "d", value: form.cpuLimit });
  if (form.memoryLimitMb > 0) entries.push({ key: "memory_limit_mb", signature: "d", value: form.memoryLimitMb });
  entries.push(
    { key: "restart", signature: "s", value: form.restart },
    { key: "on_violation", signature: "s", value: form.onViolation },
    { key: "scope", signature: "s", value: form.scope },
    { key: "sustain", signature: "u", value: Math.round(form.sustain) },
    { key: "memory_sustain", signature: "d", value: form.memorySustain },
    { key: "autostart", signature: "b", value: form.autostart },
    {
      key: "cooldown",
      signature: "a{sv}",
      value: [
        { key: "max_restarts", signature: "u", value: Math.round(form.cooldownMaxRestarts) },
        { key: "window", signature: "d", value: form.cooldownWindow },
        { key: "pause", signature: "d", value: form.cooldownPause },
      ] satisfies TypedEntry[],
    },
  );
  return entries;
}

/** Keys GetPolicies adds to say where a policy's keys come from; never sent back as they came. */
export const LAYER_KEYS = ["overridden", "unset", "shadowed", "origin"] as const;

function stringsOf(policy: Dict, key: string): string[] {
  const value = policy[key];
  return Array.isArray(value) ? value.filter((item): item is string => typeof item === "string") : [];
}

// The keys SetPolicy is to leave out (whatever config.toml says): those the policy left out already,
// and those the form had a value for and now leaves out (a limit set to 0, an emptied match), less
// those the form now sets.
export function unsetKeys(policy: Dict, entries: readonly TypedEntry[]): string[] {
  const sent = new Set(entries.map((entry) => entry.key));
  const cleared = ["match", "cpu_limit", "memory_limit_mb"].filter((key) => policy[key] !== undefined && !sent.has(key));
  return [...new Set([...stringsOf(policy, "unset").filter((key) => !sent.has(key)), ...cleared])].sort();
}

// A short note on where a policy's settings come from, for its row; empty when all come from config.toml.
export function overrideNote(policy: Dict, t: Translator): string {
  if (policy.origin === "D-Bus") return t.gettext("set here, not in config.toml");
  const keys = stringsOf(policy, "overridden");
  if (keys.length === 0) return "";
  return interpolate(t.ngettext("{keys} set here over config.toml", "{keys} set here over config.toml", keys.length), { keys: keys.join(", ") });
}

/** The daemon's refusal of a policy, split by the key each line is about. */
export interface PolicyProblems {
  /** Problem per config.toml key the form edits: `match`, `cooldown.window`, … */
  byKey: Map<string, string>;
  /** Lines about no key the form edits. */
  other: string[];
}

// One line of a ConfigError as the daemon words it: `source: process.NAME.key[.sub][[i]]: message`.
const PROBLEM_LINE = /^.*?: (?:process\.(?:"(?:[^"\\]|\\.)*"|[A-Za-z0-9_-]+)\.)?([a-z_]+(?:\.[a-z_]+)?)(?:\[\d+\])?: (.+)$/;

// Splits the daemon's refusal (one problem a line) by the form's keys, so that each message can be
// shown next to the field it is about.
export function policyProblems(message: string): PolicyProblems {
  const byKey = new Map<string, string>();
  const other: string[] = [];
  for (const line of message.split("\n").filter((text) => text.trim() !== "")) {
    const match = PROBLEM_LINE.exec(line);
    const key = match?.[1] ?? "";
    const topKey = key.split(".")[0] ?? "";
    if (match && (FORM_KEYS as readonly string[]).includes(topKey)) {
      const text = match[2] ?? line;
      byKey.set(key, byKey.has(key) ? `${byKey.get(key)}\n${text}` : text);
    } else {
      other.push(line);
    }
  }
  return { byKey, other };
}

// A row's fields after the daemon sent `incoming`: a field still showing what the daemon sent last
// (`shown`) takes the new value; a field the user changed keeps what they typed.
export function mergeForm(current: PolicyForm, shown: PolicyForm, incoming: PolicyForm): PolicyForm {
  const merged = { ...incoming };
  for (const key of Object.keys(current) as Array<keyof PolicyForm>) {
    if (current[key] !== shown[key]) (merged as Record<keyof PolicyForm, unknown>)[key] = current[key];
  }
  return merged;
}
