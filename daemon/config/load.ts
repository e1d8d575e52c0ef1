// Read config.toml into a Config, or throw a ConfigError that names the file,
// line and key of every problem. Also validates single policies given as plain
// objects (D-Bus SetPolicy, the overrides file) and turns policies back into them.
import type { Locate, UnknownKeyAdvice } from "./issues.js";
import type { Config, Policy } from "./policy.js";
import type { AST } from "toml-eslint-parser";

import { statSync } from "node:fs";

import { getStaticTOMLValue, parseTOML, ParseError } from "toml-eslint-parser";

import { ConfigError, formatKeyPath } from "./errors.js";
import { describeIssues, knownKeysAt, placeProblems } from "./issues.js";
import { KeyLocator } from "./locate.js";
import { FileTooLargeError, readFileCapped } from "./sizes.js";
import { SIZE_LIMITS } from "./defaults.js";
import { BYTES_PER_MB, normaliseConfig, normalisePolicy, ProcessNameSchema, RawConfigSchema, RawPolicySchema } from "./schema.js";
import { CPU_SPIKE_KEYS, FORK_BOMB_KEYS, LEAK_KEYS, toConfigKeys } from "./anomalyKeys.js";

export { ConfigError, formatProblem } from "./errors.js";
export type { ConfigProblem } from "./errors.js";

// Where a syntax error is: the parser notices a line left unfinished (`b =`, an
// unclosed array) only at the start of the next one, so such an error is put
// at the end of the last written line before it when the text up to that line
// alone is unfinished too.
function syntaxErrorPosition(text: string, error: ParseError): { line: number; column: number } {
  const found = { line: error.lineNumber, column: error.column + 1 };
  if (error.column !== 0) return found;
  const lines = text.split("\n");
  let last = error.lineNumber - 2;
  while (last >= 0 && lines[last]!.trim() === "") last--;
  if (last < 0) return found;
  const prefix = `${lines.slice(0, last + 1).join("\n")}\n`;
  try {
    parseTOML(prefix);
  } catch (inPrefix) {
    if (inPrefix instanceof ParseError && inPrefix.index >= prefix.trimEnd().length) return { line: last + 1, column: lines[last]!.length + 1 };
  }
  return found;
}

// Parse TOML text into its AST (the one parser: values, and every key's line for errors), turning syntax errors into a ConfigError.
function parseToml(text: string, file: string): AST.TOMLProgram {
  try {
    return parseTOML(text);
  } catch (error) {
    if (error instanceof ParseError) {
      const { line, column } = syntaxErrorPosition(text, error);
      throw new ConfigError([{ file, line, column, key: "", message: `TOML syntax error: ${error.message}` }]);
    }
    throw error;
  }
}

// One TOML value written alone (`800`, `true`, `["a", "b"]`, `"text"`), as config.toml's reader reads it; throws on anything else.
export function parseTomlValue(text: string): unknown {
  return (getStaticTOMLValue(parseTOML(`value = ${text}`)) as { value: unknown }).value;
}

// Point a key written at the wrong level of the file to where it belongs.
const adviseTopLevel: UnknownKeyAdvice = (path, key) => {
  if (path.length !== 0) return null;
  if (knownKeysAt(RawConfigSchema, ["settings"]).includes(key)) return "it belongs in the [settings] section";
  if (knownKeysAt(RawConfigSchema, ["process", "_"]).includes(key)) return "it belongs in a [process.NAME] section";
  return `the sections are ${Object.keys(RawConfigSchema.shape).map((name) => `[${name}]`).join(", ")}`;
};

/** A raw policy: one [process.NAME] table with config.toml's keys, as written. */
export type RawPolicyTable = Record<string, unknown>;

/** config.toml parsed: the Config, and each [process.NAME] table as written (what overrides go on top of). */
export interface ParsedConfig {
  config: Config;
  tables: Record<string, RawPolicyTable>;
}

/** JavaScript's prototype key: a parser would drop it silently, so it is refused wherever it is written. */
const PROTO_KEY = "__proto__";
const PROTO_MESSAGE = `"${PROTO_KEY}" cannot be used as a key`;

// Refuse every key named __proto__ in the document, with its line (the TOML parser's plain objects would lose it).
function refuseProtoKeys(program: AST.TOMLProgram, text: string, file: string): void {
  if (!text.includes(PROTO_KEY)) return;
  const found = new KeyLocator(program).pathsNamed(PROTO_KEY);
  if (found.length === 0) return;
  throw new ConfigError(
    found.map(({ path, position }) => ({ file, line: position.line, column: position.column, key: formatKeyPath(path), message: PROTO_MESSAGE })),
  );
}

// Refuse every key named __proto__ in a plain object (JSON.parse and D-Bus dicts keep it as an own key).
function protoKeyPaths(value: unknown, path: PropertyKey[] = []): PropertyKey[][] {
  if (value === null || typeof value !== "object") return [];
  const found: PropertyKey[][] = [];
  for (const [key, inner] of Object.entries(value)) {
    const at = [...path, Array.isArray(value) ? Number(key) : key];
    if (key === PROTO_KEY) found.push(at);
    found.push(...protoKeyPaths(inner, at));
  }
  return found;
}

// Parse and validate config.toml text; `file` is the name used in error messages.
export function parseConfig(text: string, file: string): Config {
  return parseConfigTables(text, file).config;
}

/** Permission bits that let the file's group or other users read it. */
const READABLE_BY_OTHERS = 0o044;

// A plain [email] password in a file others can read is refused: the line and key, and both ways out.
function refuseExposedPassword(program: AST.TOMLProgram, file: string, mode: number): void {
  const position = new KeyLocator(program).locator(["email", "password"]);
  const octal = (mode & 0o777).toString(8).padStart(3, "0");
  throw new ConfigError([
    {
      file,
      line: position?.line ?? null,
      column: position?.column ?? null,
      key: "email.password",
      message:
        `the file holds the mail password in plain text and other users can read it (mode ${octal}): ` +
        `make it private with \`chmod 600 ${file}\`, or keep the password in the keyring and name it with ` +
        `password_command (e.g. password_command = ["secret-tool", "lookup", "service", "selfheal", "user", "LOGIN"])`,
    },
  ]);
}

/** Where the text came from on disk: its permission bits, for the plain-password check. */
export interface ConfigSource {
  /** st_mode of the file; undefined for text that is not a file (a test, standard input). */
  mode?: number;
}

// Parse and validate config.toml text, keeping each policy's table as written beside the Config.
export function parseConfigTables(text: string, file: string, source: ConfigSource = {}): ParsedConfig {
  const program = parseToml(text, file);
  refuseProtoKeys(program, text, file);
  const data: unknown = getStaticTOMLValue(program);
  const result = RawConfigSchema.safeParse(data);
  if (result.success) {
    if (result.data.email?.password !== undefined && source.mode !== undefined && (source.mode & READABLE_BY_OTHERS) !== 0) {
      refuseExposedPassword(program, file, source.mode);
    }
    const written = (data as { process?: Record<string, RawPolicyTable> } | null)?.process ?? {};
    return { config: normaliseConfig(result.data), tables: plainNumbers(written) as Record<string, RawPolicyTable> };
  }
  const locate: Locate = new KeyLocator(program).locator;
  const problems = describeIssues(RawConfigSchema, data, result.error.issues, { advise: adviseTopLevel, topLevelNoun: "section or key" });
  throw new ConfigError(placeProblems(problems, file, locate));
}

// Read a config file of at most SIZE_LIMITS.config_bytes; null when it does not exist, a ConfigError when it cannot be read or is too large.
export function readConfigText(path: string): string | null {
  try {
    return readFileCapped(path, SIZE_LIMITS.config_bytes);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return null;
    const message = error instanceof FileTooLargeError ? error.message : `cannot read: ${(error as Error).message}`;
    throw new ConfigError([{ file: path, line: null, column: null, key: "", message }]);
  }
}

/** A config file read and validated, with its text as read. */
export interface ReadConfig {
  parsed: ParsedConfig;
  text: string;
}

// Read, parse and validate a config file, refusing a plain password that others can read; null when it does not exist.
export function readConfigFile(path: string): ReadConfig | null {
  const text = readConfigText(path);
  if (text === null) return null;
  let mode: number | undefined;
  try {
    mode = statSync(path).mode;
  } catch {
    // Gone since it was read: judge the text alone; the watcher reads it again.
  }
  return { parsed: parseConfigTables(text, path, { mode }), text };
}

// Read config.toml from disk; a missing file is an empty config with default settings.
export function loadConfigFile(path: string): Config {
  return (readConfigFile(path)?.parsed ?? parseConfigTables("", path)).config;
}

// Make D-Bus integers (bigint) plain numbers so one schema serves TOML, JSON and D-Bus.
export function plainNumbers(value: unknown): unknown {
  if (typeof value === "bigint") return Number.isSafeInteger(Number(value)) ? Number(value) : value;
  if (Array.isArray(value)) return value.map(plainNumbers);
  if (value !== null && typeof value === "object" && !(value instanceof Date)) {
    return Object.fromEntries(Object.entries(value).map(([key, inner]) => [key, plainNumbers(inner)]));
  }
  return value;
}

/** Plain objects have no lines: their problems name only the source. */
const noLines: Locate = () => null;

// Validate one policy given as a plain object with config.toml's keys; `source` names it in errors.
export function validatePolicyObject(name: string, obj: Record<string, unknown>, source: string): Policy {
  const prefix = ["process", name];
  const protoPaths = protoKeyPaths(obj);
  if (protoPaths.length > 0) {
    throw new ConfigError(protoPaths.map((path) => ({ file: source, line: null, column: null, key: formatKeyPath([...prefix, ...path]), message: PROTO_MESSAGE })));
  }
  const nameCheck = ProcessNameSchema.safeParse(name);
  const data = plainNumbers(obj);
  const result = RawPolicySchema.safeParse(data);
  if (nameCheck.success && result.success) return normalisePolicy(name, result.data);

  const problems = result.success ? [] : describeIssues(RawPolicySchema, data, result.error.issues);
  const placed = placeProblems(problems, source, noLines, prefix);
  if (!nameCheck.success) {
    const reason = nameCheck.error.issues.map((issue) => issue.message).join("; ");
    placed.unshift({ file: source, line: null, column: null, key: formatKeyPath(prefix), message: `invalid name ${JSON.stringify(name)}: ${reason}` });
  }
  throw new ConfigError(placed);
}

// Give a policy back as config.toml's snake_case keys; absent limits and cwd are left out.
export function policyToRaw(policy: Policy): Record<string, unknown> {
  const raw: Record<string, unknown> = { ...(policy.app === undefined ? {} : { app: policy.app.id }), command: [...policy.command], match: policy.match };
  if (policy.cpuLimit !== null) raw.cpu_limit = policy.cpuLimit;
  if (policy.memoryLimitBytes !== null) raw.memory_limit_mb = policy.memoryLimitBytes / BYTES_PER_MB;
  Object.assign(raw, {
    scope: policy.scope,
    sustain: policy.sustain,
    memory_sustain: policy.memorySustainSec,
    on_violation: policy.onViolation,
    restart: policy.restart,
    autostart: policy.autostart,
    cooldown: { max_restarts: policy.cooldown.maxRestarts, window: policy.cooldown.windowSec, pause: policy.cooldown.pauseSec },
    stop_timeout: policy.stopTimeoutSec,
  });
  if (policy.cwd !== null) raw.cwd = policy.cwd;
  raw.env = { ...policy.env };
  Object.assign(raw, anomalyToRaw(policy));
  return raw;
}

// A policy's own anomaly thresholds as config.toml's sub-tables; none when it has none.
function anomalyToRaw(policy: Policy): Record<string, unknown> {
  const raw: Record<string, unknown> = {};
  const { leak, forkBomb, cpuSpike } = policy.anomaly ?? {};
  if (leak) raw.leak = toConfigKeys(LEAK_KEYS, leak);
  if (forkBomb) raw.fork_bomb = toConfigKeys(FORK_BOMB_KEYS, forkBomb);
  if (cpuSpike) raw.cpu_spike = toConfigKeys(CPU_SPIKE_KEYS, cpuSpike);
  return raw;
}
