// `selfheal status [NAME]`: the daemon's health and a table of its processes,
// or one process in detail.
import { formatBytes, formatDuration, formatTime, json, num, table, text, type Row } from "./format.js";
import { UsageError, type ClientContext } from "./clientContext.js";

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
    `${num(properties, "WatchedCount")} watched, ${num(properties, "CooldownCount")} in cooldown, ` +
    `${count(num(properties, "AnomalyCount"), "anomaly", "anomalies")}, ${count(num(properties, "ZombieCount"), "zombie", "zombies")}\n`
  );
}

// One process in detail, a key per line.
function detail(record: Row): string {
  const limit = (value: number, show: (n: number) => string): string => (value > 0 ? show(value) : "none");
  const lines: Array<[string, string]> = [
    ["name", text(record, "name")],
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

export async function statusCommand(ctx: ClientContext): Promise<number> {
  if (ctx.args.length > 1) throw new UsageError(`status takes at most one process name, got ${ctx.args.length}`);
  const [name] = ctx.args;
  if (name !== undefined) {
    const [record] = (await ctx.client.call("GetProcess", "s", [name])) as [Row];
    ctx.out.stdout(ctx.json ? `${json(record)}\n` : detail(record));
    return 0;
  }
  const [properties, [processes]] = await Promise.all([ctx.client.properties(), ctx.client.call("ListProcesses") as Promise<[Row[]]>]);
  if (ctx.json) {
    ctx.out.stdout(
      `${json({
        version: properties.Version,
        health: properties.Health,
        watched: properties.WatchedCount,
        cooldowns: properties.CooldownCount,
        anomalies: properties.AnomalyCount,
        zombies: properties.ZombieCount,
        processes,
      })}\n`,
    );
    return 0;
  }
  const sorted = [...processes].sort((a, b) => text(a, "name").localeCompare(text(b, "name")));
  ctx.out.stdout(summary(properties));
  ctx.out.stdout(sorted.length === 0 ? "no policies yet: add [process.NAME] tables to config.toml, or use \"selfheal policy set\"\n" : table(["NAME", "STATE", "PID", "CPU", "MEMORY", "RESTARTS", "COOLDOWN"], sorted.map(processRow)));
  for (const record of sorted) {
    const refused = text(record, "protected_match");
    if (refused !== "") ctx.out.stdout(`${text(record, "name")}: ${protectedNote(refused)}\n`);
  }
  return 0;
}
