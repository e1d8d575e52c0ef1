// `selfheal start|stop|restart NAME` and `selfheal cooldown [reset NAME]`.
import { formatDuration, formatTime, json, num, table, text, type Row } from "./format.js";
import { oneName, UsageError, type ClientContext } from "./clientContext.js";

/** Stop and restart wait for the process to end: up to the longest stop timeout a policy may set, and some. */
const STOP_CALL_TIMEOUT_MS = 11 * 60 * 1000;

const METHODS = { start: "StartProcess", stop: "StopProcess", restart: "RestartProcess" } as const;

// What became of the process, in a few words.
function outcome(record: Row): string {
  const pid = num(record, "pid");
  return `${text(record, "name")}: ${text(record, "state")}${pid === 0 ? "" : ` (PID ${pid})`}`;
}

// start, stop or restart one process, then show its state.
export async function controlCommand(ctx: ClientContext, verb: keyof typeof METHODS): Promise<number> {
  const name = oneName(ctx, verb);
  await ctx.client.call(METHODS[verb], "s", [name], verb === "start" ? undefined : STOP_CALL_TIMEOUT_MS);
  const [record] = (await ctx.client.call("GetProcess", "s", [name])) as [Row];
  ctx.out.stdout(ctx.json ? `${json(record)}\n` : `${outcome(record)}\n`);
  return 0;
}

// `cooldown` lists restart windows and cooldowns; `cooldown reset NAME` ends one.
export async function cooldownCommand(ctx: ClientContext): Promise<number> {
  const [action, ...rest] = ctx.args;
  if (action === "reset") {
    const name = oneName({ ...ctx, args: rest }, "cooldown reset");
    await ctx.client.call("ResetCooldown", "s", [name]);
    const [record] = (await ctx.client.call("GetProcess", "s", [name])) as [Row];
    ctx.out.stdout(ctx.json ? `${json(record)}\n` : `${name}: cooldown reset, restarts allowed again (${text(record, "state")})\n`);
    return 0;
  }
  if (action !== undefined && action !== "list") throw new UsageError(`cooldown takes "list" or "reset NAME", got "${action}"`);
  const [records] = (await ctx.client.call("GetCooldowns")) as [Row[]];
  if (ctx.json) {
    ctx.out.stdout(`${json(records)}\n`);
    return 0;
  }
  if (records.length === 0) {
    ctx.out.stdout("no restarts in any window, no cooldowns\n");
    return 0;
  }
  const rows = records.map((record) => {
    const remaining = num(record, "cooldown_remaining");
    return [text(record, "name"), String(num(record, "restarts_in_window")), remaining > 0 ? formatDuration(remaining) : "-", formatTime(num(record, "until_usec"))];
  });
  ctx.out.stdout(table(["NAME", "RESTARTS IN WINDOW", "COOLDOWN LEFT", "UNTIL"], rows));
  return 0;
}
