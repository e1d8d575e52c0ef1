// `selfheal status [NAME]`: the daemon's health and a table of its processes,
// or one process in detail.
import { formatBytes, formatDuration, formatTime, json, num, table, text, tomlValue, type Row } from "./format.js";
import { UsageError, type ClientContext } from "./clientContext.js";
import { broadMatchWarning } from "../config/broadMatch.js";
import { columns, sparkline, type HistorySample } from "./sparkline.js";

/** How far back `status NAME --history` looks (all the daemon keeps). */
const HISTORY_USEC = 10 * 60 * 1_000_000;

// The trend of the last 10 minutes: memory and CPU, a sparkline each with its range.
function historyLines(samples: readonly HistorySample[]): string {
  if (samples.length === 0) return `${"history:".padEnd(10)}none yet (samples are taken while the program runs)\n`;
  const minutes = Math.max(1, Math.round((samples[samples.length - 1]![0] - samples[0]![0]) / 60_000_000));
  const range = (values: number[], show: (n: number) => string): string => `${show(Math.min(...values))} to ${show(Math.max(...values))}`;
  const rss = samples.map((sample) => sample[2]);
  const cpu = samples.map((sample) => sample[1]);
  return (
    `${"history:".padEnd(10)}${samples.length} samples over ${minutes} min (a blank: not running)\n` +
    `${"  memory".padEnd(10)}${sparkline(columns(samples, (sample) => sample[2]))}  ${range(rss, formatBytes)}\n` +
    `${"  cpu".padEnd(10)}${sparkline(columns(samples, (sample) => sample[1]))}  ${range(cpu, (n) => `${n.toFixed(1)}%`)}\n`
  );
}

// One process's row of the status table.
function processRow(record: Row): string[] {
  const running = num(record, "pid") !== 0;
  const cooldown = num(record, "cooldown_remaining");
  return [
    text(record, "name"),
    text(record, "state"),
    running ? String(num(record, "pid")) : "-",
    running ? `${num(record, "cpu_percent").toFixed(1)}%` : "-",
    running ? formatBytes(num(record, "rss_bytes")) : "-",
    String(num(record, "restarts")),
    cooldown > 0 ? formatDuration(cooldown) : "-",
  ];
}

// Why a policy watches nothing although its match names running processes.
function protectedNote(refused: string): string {
  return `its match names only processes selfheal never touches (${refused}); none is adopted`;
}

// "1 zombie", "2 zombies".
function count(n: number, one: string, many: string): string {
  return `${n} ${n === 1 ? one : many}`;
}

// The summary line above the table.
function summary(properties: Row): string {
  return (
    `selfheal ${text(properties, "Version")}: health ${text(properties, "Health")}; ` +
    `${count(num(properties, "WatchedCount"), "program", "programs")} watched, ${num(properties, "CooldownCount")} in cooldown, ` +
    `${count(num(properties, "AnomalyCount"), "anomaly", "anomalies")}, ${count(num(properties, "ZombieCount"), "zombie", "zombies")}\n`
  );
}

// A rejected config.toml, first of all: its first problem, then the rest and what is in force, indented.
function configRejection(properties: Row): string {
  const error = text(properties, "ConfigError");
  if (error === "") return "";
  const [first, ...rest] = error.split("\n");
  return [`config.toml rejected: ${first}`, ...rest.map((line) => `  ${line}`)].join("\n") + "\n";
}

// One process in detail, a key per line.
function detail(record: Row): string {
  const limit = (value: number, show: (n: number) => string): string => (value > 0 ? show(value) : "none");
  const lines: Array<[string, string]> = [
    ["name", text(record, "name")],
    ...(text(record, "app_id") === "" ? [] : ([["app", `${text(record, "app_name")} (${text(record, "app_id")})`]] as Array<[string, string]>)),
    ["state", text(record, "state")],
    ["pid", num(record, "pid") === 0 ? "-" : String(num(record, "pid"))],
    ["managed", record.managed === true ? "yes (started by selfheal)" : "no"],
    ["started", formatTime(num(record, "started_usec"))],
    ["cpu", `${num(record, "cpu_percent").toFixed(1)}% (limit ${limit(num(record, "cpu_limit"), (n) => `${n}%`)})`],
    ["memory", `${formatBytes(num(record, "rss_bytes"))} (limit ${limit(num(record, "memory_limit_bytes"), formatBytes)})`],
    ["restarts", `${num(record, "restarts")} (${num(record, "restarts_in_window")} in the cooldown window)`],
    ["cooldown", num(record, "cooldown_remaining") > 0 ? `${formatDuration(num(record, "cooldown_remaining"))} left` : "none"],
  ];
  const refused = text(record, "protected_match");
  if (refused !== "") lines.push(["note", protectedNote(refused)]);
  return lines.map(([key, value]) => `${`${key}:`.padEnd(10)}${value}`).join("\n") + "\n";
}

// What the policy's override over D-Bus sets or leaves out, and config.toml's value it hides: a line each.
function overrideLines(name: string, policy: Row | undefined): string {
  if (policy === undefined) return "";
  const unset = strings(policy.unset);
  const shadowed = (policy.shadowed !== null && typeof policy.shadowed === "object" ? policy.shadowed : {}) as Row;
  const lines = strings(policy.overridden).map((key) => {
    const fileSays = key in shadowed ? `; config.toml says ${tomlValue(shadowed[key])}` : "";
    return unset.includes(key) ? `${key} left out over D-Bus${fileSays}` : `${key} = ${tomlValue(valueAt(policy, key))} set over D-Bus${fileSays}`;
  });
  if (lines.length === 0) return "";
  const back = policy.origin === "D-Bus" ? `set over D-Bus only; "selfheal policy reset ${name}" removes it` : `"selfheal policy reset ${name}" goes back to config.toml alone`;
  return [...lines, back].map((line) => `${"override:".padEnd(10)}${line}`).join("\n") + "\n";
}

// The value at a dotted key of a record ("cooldown.pause").
function valueAt(record: Row, key: string): unknown {
  const [top = "", inner] = key.split(".", 2);
  const value = record[top];
  return inner === undefined ? value : value !== null && typeof value === "object" ? (value as Row)[inner] : undefined;
}

function strings(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((item): item is string => typeof item === "string") : [];
}

export async function statusCommand(ctx: ClientContext): Promise<number> {
  if (ctx.args.length > 1) throw new UsageError(`status takes at most one process name, got ${ctx.args.length}`);
  const [name] = ctx.args;
  if (ctx.options.history === true && name === undefined) throw new UsageError("status --history needs a process name: selfheal status NAME --history");
  if (name !== undefined) {
    const [[record], [policies]] = (await Promise.all([ctx.client.call("GetProcess", "s", [name]), ctx.client.call("GetPolicies")])) as [[Row], [Record<string, Row>]];
    const policy = policies[name];
    let history: HistorySample[] | null = null;
    if (ctx.options.history === true) {
      const since = BigInt(Date.now()) * 1000n - BigInt(HISTORY_USEC);
      const [samples] = (await ctx.client.call("GetHistory", "st", [name, since])) as [Array<[number | bigint, number, number]>];
      history = samples.map(([time, cpu, rss]) => [Number(time), cpu, rss]);
    }
    if (ctx.json) {
      ctx.out.stdout(`${json({ ...record, overridden: policy?.overridden ?? [], shadowed: policy?.shadowed ?? {}, ...(history ? { history } : {}) })}\n`);
    } else {
      ctx.out.stdout(detail(record) + overrideLines(name, policy) + (history ? historyLines(history) : ""));
    }
    return 0;
  }
  const [properties, [processes], [policies]] = await Promise.all([
    ctx.client.properties(),
    ctx.client.call("ListProcesses") as Promise<[Row[]]>,
    ctx.client.call("GetPolicies") as Promise<[Record<string, Row>]>,
  ]);
  const warnings = matchWarnings(policies);
  if (ctx.json) {
    ctx.out.stdout(
      `${json({
        version: properties.Version,
        health: properties.Health,
        watched: properties.WatchedCount,
        cooldowns: properties.CooldownCount,
        anomalies: properties.AnomalyCount,
        zombies: properties.ZombieCount,
        config_error: properties.ConfigError ?? "",
        warnings,
        processes,
      })}\n`,
    );
    return 0;
  }
  const sorted = [...processes].sort((a, b) => text(a, "name").localeCompare(text(b, "name")));
  ctx.out.stdout(configRejection(properties) + summary(properties));
  ctx.out.stdout(sorted.length === 0 ? "no policies yet: add [process.NAME] tables to config.toml, or use \"selfheal policy set\"\n" : table(["NAME", "STATE", "PID", "CPU", "MEMORY", "RESTARTS", "COOLDOWN"], sorted.map(processRow)));
  for (const record of sorted) {
    const refused = text(record, "protected_match");
    if (refused !== "") ctx.out.stdout(`${text(record, "name")}: ${protectedNote(refused)}\n`);
  }
  for (const warning of warnings) ctx.out.stdout(`warning: ${warning}\n`);
  return 0;
}

// The policies whose match adopts every process of a common program (config/broadMatch.ts).
function matchWarnings(policies: Record<string, Row>): string[] {
  return Object.entries(policies).flatMap(([name, policy]) => broadMatchWarning({ name, match: text(policy, "match"), command: strings(policy.command) }) ?? []);
}
