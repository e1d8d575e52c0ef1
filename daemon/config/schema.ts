// zod schemas (its mini build: functions rather than methods, so the bundle holds only
// what is used) for config.toml as written (snake_case keys) and their translation
// into the normalised Policy, Settings and EmailSettings the engine uses.
import type {
  AnomalyOverrides,
  AnomalySettings,
  Config,
  CpuSpikeSettings,
  EmailSettings,
  ForkBombSettings,
  LeakSettings,
  MetricsSettings,
  NotificationSettings,
  Policy,
  Settings,
  ZombieSettings,
} from "./policy.js";

import { isIPv4, isIPv6 } from "node:net";
import { homedir } from "node:os";
import { basename, isAbsolute, join } from "node:path";

import * as z from "zod/mini";

import { BYTES_PER_MB, DEFAULTS, ENV_NAME_PATTERN, LIMITS, NAME_PATTERN, SIZE_LIMITS } from "./defaults.js";
import { formatBytes } from "./sizes.js";
import type { CustomParams } from "./issues.js";
import type { ParsePayload } from "zod/v4/core";
import "./zodMessages.js";
import { CPU_SPIKE_KEYS, FORK_BOMB_KEYS, LEAK_KEYS, fromConfigKeys } from "./anomalyKeys.js";
import { programName } from "../proc/interpreters.js";
import { AppError, resolveApp, type DesktopApp } from "../apps/catalog.js";
import { compileLinear, PatternError, splitSlashPattern, type LinearRegex } from "../proc/pattern.js";

export { BYTES_PER_MB, DEFAULTS, LIMITS, NAME_PATTERN } from "./defaults.js";

const NUL = "\0";

// Compile a `/pattern/flags` match as the process matcher will; null when `match` is a plain name.
// Throws a PatternError saying what is wrong (invalid, not linear, or matching every command line).
export function parseMatchRegex(match: string): LinearRegex | null {
  const parts = splitSlashPattern(match);
  return parts === null ? null : compileLinear(parts.pattern, parts.flags);
}

// A non-empty string without NUL bytes (argv, paths and names cannot carry one).
function text() {
  return z.string().check(
    z.minLength(1),
    z.refine((value) => !value.includes(NUL), { message: "must not contain a NUL character" }),
  );
}

// A /regex/ match must compile for linear-time matching and not match everything; anything else is a process name.
const MatchSchema = text().check(
  z.superRefine((value, ctx) => {
    try {
      parseMatchRegex(value);
    } catch (error) {
      if (!(error instanceof PatternError)) throw error;
      ctx.addIssue({ code: "custom", message: error.message });
    }
  }),
);

const CwdSchema = text().check(
  z.refine((value) => isAbsolute(value) || value === "~" || value.startsWith("~/"), {
    message: "expected an absolute path (or one starting with ~/)",
  }),
  z.refine((value) => Buffer.byteLength(value) < SIZE_LIMITS.path_bytes, {
    message: `expected a path shorter than ${SIZE_LIMITS.path_bytes} bytes (the kernel's PATH_MAX)`,
  }),
);

const EnvNameSchema = z.string().check(
  z.refine((value) => ENV_NAME_PATTERN.test(value) && value.length <= SIZE_LIMITS.env_name_length, {
    message: `an environment variable name is letters, digits and _, not starting with a digit (POSIX), at most ${SIZE_LIMITS.env_name_length} characters`,
  }),
);

// A number from a limit's min to its max, inclusive.
function numberWithin(limit: { min: number; max: number }) {
  return z.number().check(z.minimum(limit.min), z.maximum(limit.max));
}

// An integer from a limit's min to its max, inclusive.
function intWithin(limit: { min: number; max: number }) {
  return z.int().check(z.minimum(limit.min), z.maximum(limit.max));
}

// A number above 0, up to `max` inclusive.
function positiveUpTo(max: number) {
  return z.number().check(z.gt(0), z.maximum(max));
}

/** A size cap's issue: its message says the size, so the (large) value is not shown. */
const SIZE_ISSUE: CustomParams = { omitValue: true };

/** Bytes a string takes in a program's argv or environment block: its UTF-8 and a terminating NUL. */
function blockBytes(value: string): number {
  return Buffer.byteLength(value) + 1;
}

// argv: at most so many arguments and bytes, so that the program can be started (ARG_MAX).
const CommandSchema = z.array(text()).check(
  z.minLength(1),
  z.superRefine((command, ctx) => {
    if (command.length > SIZE_LIMITS.arguments) {
      ctx.addIssue({ code: "custom", message: `has ${command.length} arguments; at most ${SIZE_LIMITS.arguments} are accepted`, params: SIZE_ISSUE });
      return;
    }
    const bytes = command.reduce((sum, argument) => sum + blockBytes(argument), 0);
    if (bytes > SIZE_LIMITS.argument_bytes) {
      ctx.addIssue({
        code: "custom",
        message: `is ${bytes} bytes with each argument's terminating NUL; at most ${formatBytes(SIZE_LIMITS.argument_bytes)} are accepted`,
        params: SIZE_ISSUE,
      });
    }
  }),
);

// The policy's extra environment: POSIX names, and at most so many variables and bytes (ARG_MAX counts them too).
const EnvSchema = z.record(EnvNameSchema, z.string().check(z.refine((value) => !value.includes(NUL), { message: "must not contain a NUL character" }))).check(
  z.superRefine((env, ctx) => {
    const entries = Object.entries(env);
    if (entries.length > SIZE_LIMITS.env_vars) {
      ctx.addIssue({ code: "custom", message: `has ${entries.length} variables; at most ${SIZE_LIMITS.env_vars} are accepted`, params: SIZE_ISSUE });
      return;
    }
    const bytes = entries.reduce((sum, [name, value]) => sum + blockBytes(`${name}=${value}`), 0);
    if (bytes > SIZE_LIMITS.env_bytes) {
      ctx.addIssue({ code: "custom", message: `is ${bytes} bytes as NAME=value entries; at most ${formatBytes(SIZE_LIMITS.env_bytes)} are accepted`, params: SIZE_ISSUE });
    }
  }),
);

export const ProcessNameSchema = z.string().check(
  z.regex(NAME_PATTERN, {
    message: "a process name is 1 to 64 letters, digits or . _ @ + -, starting with a letter or digit",
  }),
);

const CooldownSchema = z.strictObject({
  max_restarts: z._default(intWithin(LIMITS.max_restarts), DEFAULTS.process.cooldown.max_restarts),
  window: z._default(positiveUpTo(LIMITS.window.max), DEFAULTS.process.cooldown.window),
  pause: z._default(positiveUpTo(LIMITS.pause.max), DEFAULTS.process.cooldown.pause),
});

const AnomalyActionSchema = z.enum(["notify", "restart", "kill"]);

// The keys of [anomaly.leak] and [process.NAME.leak]; every key is optional, the defaults fill in at normalisation.
const LeakSchema = z.strictObject({
  enabled: z.optional(z.boolean()),
  action: z.optional(AnomalyActionSchema),
  window: z.optional(numberWithin(LIMITS.leak_window)),
  min_duration: z.optional(numberWithin(LIMITS.min_duration)),
  min_rate_mb_per_min: z.optional(numberWithin(LIMITS.min_rate_mb_per_min)),
  min_growth_mb: z.optional(numberWithin(LIMITS.min_growth_mb)),
  min_r2: z.optional(numberWithin(LIMITS.min_r2)),
});

// The keys of [anomaly.fork_bomb] and [process.NAME.fork_bomb].
const ForkBombSchema = z.strictObject({
  enabled: z.optional(z.boolean()),
  action: z.optional(AnomalyActionSchema),
  max_descendants: z.optional(intWithin(LIMITS.max_descendants)),
  max_spawn_rate: z.optional(numberWithin(LIMITS.max_spawn_rate)),
});

// The keys of [anomaly.cpu_spike] and [process.NAME.cpu_spike].
const CpuSpikeSchema = z.strictObject({
  enabled: z.optional(z.boolean()),
  action: z.optional(AnomalyActionSchema),
  sigma: z.optional(positiveUpTo(LIMITS.sigma.max)),
  min_percent: z.optional(numberWithin(LIMITS.min_percent)),
  baseline: z.optional(numberWithin(LIMITS.baseline)),
  sustain: z.optional(intWithin(LIMITS.spike_sustain)),
  warmup: z.optional(intWithin(LIMITS.warmup)),
});

/** An issue whose message names the value already (the app's id). */
const OWN_MESSAGE: CustomParams = { omitValue: true };

// `app`: a desktop-file id, resolved from the XDG data dirs into the app's command, match, name and icon.
const AppSchema = z.pipe(
  text(),
  z.transform((id: string, payload: ParsePayload): DesktopApp => {
    try {
      return resolveApp(id);
    } catch (error) {
      if (!(error instanceof AppError)) throw error;
      // The mini build's transform gets the parse payload (no addIssue): the issue goes in as addIssue would put it.
      payload.issues.push({ code: "custom", message: error.message, params: OWN_MESSAGE, input: id, path: [] });
      return z.NEVER;
    }
  }),
);

/** One [process.NAME] table as written. */
export const RawPolicySchema = z.strictObject({
  app: z.optional(AppSchema),
  command: z.optional(CommandSchema),
  match: z.optional(MatchSchema),
  cpu_limit: z.optional(positiveUpTo(LIMITS.cpu_limit.max)),
  memory_limit_mb: z.optional(positiveUpTo(LIMITS.memory_limit_mb.max)),
  scope: z._default(z.enum(["tree", "process"]), DEFAULTS.process.scope),
  sustain: z._default(intWithin(LIMITS.sustain), DEFAULTS.process.sustain),
  memory_sustain: z._default(numberWithin(LIMITS.memory_sustain), DEFAULTS.process.memory_sustain),
  on_violation: z._default(z.enum(["restart", "kill", "notify"]), DEFAULTS.process.on_violation),
  restart: z._default(z.enum(["on-failure", "always", "never"]), DEFAULTS.process.restart),
  autostart: z._default(z.boolean(), DEFAULTS.process.autostart),
  cooldown: z.prefault(CooldownSchema, {}),
  stop_timeout: z._default(numberWithin(LIMITS.stop_timeout), DEFAULTS.process.stop_timeout),
  cwd: z.optional(CwdSchema),
  env: z._default(EnvSchema, {}),
  leak: z.optional(LeakSchema),
  fork_bomb: z.optional(ForkBombSchema),
  cpu_spike: z.optional(CpuSpikeSchema),
}).check(z.superRefine((policy, ctx) => {
  // An app whose own command cannot be used (Flatpak, no Exec) is watched only with both given.
  if (policy.app?.refusal != null && (policy.command === undefined || policy.match === undefined)) {
    ctx.addIssue({ code: "custom", path: ["app"], message: `${policy.app.refusal}; give the policy both command and match to watch it anyway`, params: OWN_MESSAGE });
  }
  // The size of what was written: the app as its id, not as what it resolved to.
  const bytes = Buffer.byteLength(JSON.stringify({ ...policy, app: policy.app?.id }));
  if (bytes > SIZE_LIMITS.policy_bytes) {
    ctx.addIssue({ code: "custom", message: `is ${bytes} bytes as JSON; at most ${formatBytes(SIZE_LIMITS.policy_bytes)} are accepted for one policy`, params: SIZE_ISSUE });
  }
}));

/** The [settings] table as written. */
export const RawSettingsSchema = z.strictObject({
  interval: z._default(numberWithin(LIMITS.interval), DEFAULTS.settings.interval),
});

const AddressSchema = text().check(z.refine((value) => value.includes("@"), { message: "expected an email address" }));

/** The [email] table as written. */
export const RawEmailSchema = z
  .strictObject({
    enabled: z._default(z.boolean(), DEFAULTS.email.enabled),
    smtp_host: text(),
    smtp_port: intWithin(LIMITS.smtp_port),
    from: AddressSchema,
    to: z.union([AddressSchema, z.array(AddressSchema).check(z.minLength(1))]),
    username: z.optional(text()),
    password: z.optional(z.string()),
    password_command: z.optional(z.array(text()).check(z.minLength(1))),
    starttls: z.optional(z.boolean()),
    implicit_tls: z.optional(z.boolean()),
    rate_limit_minutes: z._default(numberWithin(LIMITS.rate_limit_minutes), DEFAULTS.email.rate_limit_minutes),
  })
  .check(z.superRefine((email, ctx) => {
    if (email.starttls === true && email.implicit_tls === true) {
      ctx.addIssue({ code: "custom", path: ["starttls"], message: "cannot be true together with implicit_tls = true" });
    }
    if (email.password !== undefined && email.password_command !== undefined) {
      ctx.addIssue({ code: "custom", path: ["password_command"], message: "cannot be given together with password; keep one of the two" });
    }
    if (email.password_command !== undefined && email.username === undefined) {
      ctx.addIssue({ code: "custom", path: ["password_command"], message: "needs username (the SMTP login the password is for)" });
    }
  }));

/** The [anomaly] table as written: the global watch and the detectors' defaults. */
export const RawAnomalySchema = z.strictObject({
  watch_all: z._default(z.boolean(), DEFAULTS.anomaly.watch_all),
  watch_all_min_rss_mb: z._default(numberWithin(LIMITS.watch_all_min_rss_mb), DEFAULTS.anomaly.watch_all_min_rss_mb),
  leak: z.prefault(LeakSchema, {}),
  fork_bomb: z.prefault(ForkBombSchema, {}),
  cpu_spike: z.prefault(CpuSpikeSchema, {}),
});

/** The [zombies] table as written. */
export const RawZombiesSchema = z.strictObject({
  cleanup: z._default(z.boolean(), DEFAULTS.zombies.cleanup),
  cleanup_interval: z._default(numberWithin(LIMITS.cleanup_interval), DEFAULTS.zombies.cleanup_interval),
  min_age: z._default(numberWithin(LIMITS.min_age), DEFAULTS.zombies.min_age),
  reap_wait: z._default(numberWithin(LIMITS.reap_wait), DEFAULTS.zombies.reap_wait),
  kill_parents: z._default(z.boolean(), DEFAULTS.zombies.kill_parents),
  protected: z._default(z.array(text()), [...DEFAULTS.zombies.protected]),
});

/** The [notifications] table as written. */
export const RawNotificationsSchema = z.strictObject({
  desktop: z._default(z.boolean(), DEFAULTS.notifications.desktop),
});

/** `listen` as written: "ADDRESS:PORT", an IPv6 address in brackets. */
const LISTEN_FORM = /^(?:\[(?<v6>[^\]]*)\]|(?<v4>[^:[\]]*)):(?<port>[^:]*)$/;

// Split a valid `listen` value into its host and port; null when it is not of the form ADDRESS:PORT.
export function parseListen(value: string): { host: string; port: number } | null {
  const groups = LISTEN_FORM.exec(value)?.groups;
  if (groups === undefined) return null;
  return { host: groups.v6 ?? groups.v4 ?? "", port: Number(groups.port) };
}

// Why a `listen` value is refused, or null when it is good (any address the user writes is allowed; the default is loopback).
function listenProblem(value: string): string | null {
  const parsed = parseListen(value);
  const unbracketed = value.slice(0, value.lastIndexOf(":"));
  if (parsed === null && isIPv6(unbracketed)) return `an IPv6 address goes in brackets: "[${unbracketed}]:${value.slice(value.lastIndexOf(":") + 1)}"`;
  if (parsed === null) return `expected ADDRESS:PORT, such as "127.0.0.1:9464" (this machine only) or "[::1]:9464"`;
  const { host, port } = parsed;
  const bracketed = value.startsWith("[");
  if (bracketed ? !isIPv6(host) : !isIPv4(host) && host !== "localhost") {
    return `"${host}" is not an IP address; write the address to listen on: 127.0.0.1 (this machine only), or the address of one network interface`;
  }
  const range = LIMITS.metrics_port;
  if (!/^\d+$/.test(String(parsed.port)) || !Number.isInteger(port) || port < range.min || port > range.max) {
    return `the port must be a whole number from ${range.min} to ${range.max}`;
  }
  return null;
}

/** The [metrics] table as written: an HTTP endpoint, a file for node_exporter, or both. */
export const RawMetricsSchema = z.strictObject({
  listen: z.optional(
    z.string().check(
      z.superRefine((value, ctx) => {
        const problem = listenProblem(value);
        if (problem !== null) ctx.addIssue({ code: "custom", message: problem });
      }),
    ),
  ),
  textfile: z.optional(
    text().check(
      z.refine((value) => isAbsolute(value), { message: "expected an absolute path" }),
      z.refine((value) => value.endsWith(".prom"), { message: 'expected a file name ending in ".prom" (node_exporter\'s textfile collector reads only those)' }),
    ),
  ),
});

/**
 * Every top-level section config.toml may hold. Adding a section is one line
 * here plus its normaliser in `normaliseConfig`; unknown sections are errors.
 */
export const SECTION_SCHEMAS = {
  settings: z.prefault(RawSettingsSchema, {}),
  process: z._default(
    z.record(ProcessNameSchema, RawPolicySchema).check(
      z.superRefine((policies, ctx) => {
        const count = Object.keys(policies).length;
        if (count > SIZE_LIMITS.policies) ctx.addIssue({ code: "custom", message: `has ${count} policies; at most ${SIZE_LIMITS.policies} are accepted`, params: SIZE_ISSUE });
      }),
    ),
    {},
  ),
  email: z.optional(RawEmailSchema),
  anomaly: z.prefault(RawAnomalySchema, {}),
  zombies: z.prefault(RawZombiesSchema, {}),
  notifications: z.prefault(RawNotificationsSchema, {}),
  metrics: z.optional(RawMetricsSchema),
};

/** The whole of config.toml as written. */
export const RawConfigSchema = z.strictObject(SECTION_SCHEMAS);

export type RawPolicy = z.output<typeof RawPolicySchema>;
export type RawSettings = z.output<typeof RawSettingsSchema>;
export type RawEmail = z.output<typeof RawEmailSchema>;
export type RawConfig = z.output<typeof RawConfigSchema>;
export type RawAnomaly = z.output<typeof RawAnomalySchema>;
export type RawZombies = z.output<typeof RawZombiesSchema>;
export type RawNotifications = z.output<typeof RawNotificationsSchema>;
export type RawMetrics = z.output<typeof RawMetricsSchema>;

// Expand a leading ~ in a cwd to the user's home directory.
function expandHome(path: string): string {
  if (path === "~") return homedir();
  return path.startsWith("~/") ? join(homedir(), path.slice(2)) : path;
}

// Turn one validated [process.NAME] table into the engine's Policy, filling name-derived defaults.
// An app's command and match stand in for the ones the policy leaves out.
export function normalisePolicy(name: string, raw: RawPolicy): Policy {
  const app = raw.app;
  const command = raw.command ?? app?.command ?? [name];
  const appMatch = raw.command === undefined ? app?.match : undefined;
  return {
    name,
    command: [...command],
    // A script's name when command[0] is an interpreter (["python3", "app.py"] → "app.py"), else command[0]'s.
    match: raw.match ?? appMatch ?? programName(command) ?? basename(name),
    cpuLimit: raw.cpu_limit ?? null,
    memoryLimitBytes: raw.memory_limit_mb === undefined ? null : Math.round(raw.memory_limit_mb * BYTES_PER_MB),
    scope: raw.scope,
    sustain: raw.sustain,
    memorySustainSec: raw.memory_sustain,
    onViolation: raw.on_violation,
    restart: raw.restart,
    autostart: raw.autostart,
    cooldown: {
      maxRestarts: raw.cooldown.max_restarts,
      windowSec: raw.cooldown.window,
      pauseSec: raw.cooldown.pause,
    },
    stopTimeoutSec: raw.stop_timeout,
    cwd: raw.cwd === undefined ? (app?.cwd ?? null) : expandHome(raw.cwd),
    env: { ...raw.env },
    ...anomalyOverridesOf(raw),
    ...(app === undefined ? {} : { app: { id: app.id, name: app.name, icon: app.icon } }),
  };
}

// A policy's own anomaly thresholds, as `{ anomaly }` when it has any (so a policy without them stays as it was).
function anomalyOverridesOf(raw: RawPolicy): { anomaly?: AnomalyOverrides } {
  if (raw.leak === undefined && raw.fork_bomb === undefined && raw.cpu_spike === undefined) return {};
  const anomaly: AnomalyOverrides = {};
  if (raw.leak !== undefined) anomaly.leak = fromConfigKeys(LEAK_KEYS, raw.leak);
  if (raw.fork_bomb !== undefined) anomaly.forkBomb = fromConfigKeys(FORK_BOMB_KEYS, raw.fork_bomb);
  if (raw.cpu_spike !== undefined) anomaly.cpuSpike = fromConfigKeys(CPU_SPIKE_KEYS, raw.cpu_spike);
  return { anomaly };
}

// Turn the validated [anomaly] table into AnomalySettings, the defaults filling what was left out.
export function normaliseAnomaly(raw: RawAnomaly): AnomalySettings {
  const defaults = DEFAULTS.anomaly;
  return {
    watchAll: raw.watch_all,
    watchAllMinRssBytes: Math.round(raw.watch_all_min_rss_mb * BYTES_PER_MB),
    // DEFAULTS has every key, so each merge is complete.
    leak: { ...fromConfigKeys(LEAK_KEYS, defaults.leak), ...fromConfigKeys(LEAK_KEYS, raw.leak) } as LeakSettings,
    forkBomb: { ...fromConfigKeys(FORK_BOMB_KEYS, defaults.fork_bomb), ...fromConfigKeys(FORK_BOMB_KEYS, raw.fork_bomb) } as ForkBombSettings,
    cpuSpike: { ...fromConfigKeys(CPU_SPIKE_KEYS, defaults.cpu_spike), ...fromConfigKeys(CPU_SPIKE_KEYS, raw.cpu_spike) } as CpuSpikeSettings,
  };
}

// Turn the validated [zombies] table into ZombieSettings.
export function normaliseZombies(raw: RawZombies): ZombieSettings {
  return {
    cleanup: raw.cleanup,
    cleanupIntervalSec: raw.cleanup_interval,
    minAgeSec: raw.min_age,
    reapWaitSec: raw.reap_wait,
    killParents: raw.kill_parents,
    protectedNames: [...raw.protected],
  };
}

// Turn the validated [notifications] table into NotificationSettings.
export function normaliseNotifications(raw: RawNotifications): NotificationSettings {
  return { desktop: raw.desktop };
}

// Turn the validated [metrics] table into MetricsSettings: without listen or textfile, serve on the default loopback address.
export function normaliseMetrics(raw: RawMetrics): MetricsSettings {
  const listen = raw.listen ?? (raw.textfile === undefined ? DEFAULTS.metrics.listen : undefined);
  return { listen: listen === undefined ? null : parseListen(listen), textfile: raw.textfile ?? null };
}

// Turn the validated [settings] table into Settings.
export function normaliseSettings(raw: RawSettings): Settings {
  return { intervalSec: raw.interval };
}

// Turn the validated [email] table into EmailSettings, deciding the TLS mode from the port.
export function normaliseEmail(raw: RawEmail): EmailSettings {
  return {
    enabled: raw.enabled,
    smtpHost: raw.smtp_host,
    smtpPort: raw.smtp_port,
    from: raw.from,
    to: typeof raw.to === "string" ? [raw.to] : [...raw.to],
    username: raw.username ?? null,
    password: raw.password ?? null,
    passwordCommand: raw.password_command === undefined ? null : [...raw.password_command],
    implicitTls: raw.implicit_tls ?? raw.smtp_port === DEFAULTS.email.implicit_tls_port,
    starttls: raw.starttls ?? null,
    rateLimitMinutes: raw.rate_limit_minutes,
  };
}

// Turn a validated config.toml into the Config the daemon runs with.
export function normaliseConfig(raw: RawConfig): Config {
  const policies = new Map<string, Policy>();
  for (const [name, policy] of Object.entries(raw.process)) policies.set(name, normalisePolicy(name, policy));
  return {
    settings: normaliseSettings(raw.settings),
    policies,
    email: raw.email === undefined ? null : normaliseEmail(raw.email),
    anomaly: normaliseAnomaly(raw.anomaly),
    zombies: normaliseZombies(raw.zombies),
    notifications: normaliseNotifications(raw.notifications),
    metrics: raw.metrics === undefined ? null : normaliseMetrics(raw.metrics),
  };
}
