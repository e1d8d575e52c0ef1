// `selfheal policy get [NAME]`, `policy set NAME KEY=VALUE... [--replace]`,
// `policy rm NAME`: the policies over D-Bus (kept in the daemon's overrides
// file; config.toml is never rewritten).
import { basename } from "node:path";
import { parse as parseToml } from "smol-toml";
import { variantOf } from "../bus/variants.js";
import { json, policyToml, type Row } from "./format.js";
import { CommandError, oneName, UsageError, type ClientContext } from "./clientContext.js";

// A KEY=VALUE's value: TOML (numbers, true/false, ["arrays"], "strings"), else the text itself.
export function parseValue(raw: string): unknown {
  try {
    return parseToml(`value = ${raw}`).value;
  } catch {
    return raw;
  }
}

// Apply KEY=VALUE assignments (dotted keys reach into cooldown and env; an empty value removes the key).
export function applyAssignments(policy: Row, assignments: readonly string[]): Row {
  const out: Row = structuredClone(policy);
  for (const assignment of assignments) {
    const eq = assignment.indexOf("=");
    if (eq <= 0) throw new UsageError(`expected KEY=VALUE, got "${assignment}" (e.g. memory_limit_mb=800, restart=always, command='["gedit"]')`);
    const path = assignment.slice(0, eq).split(".");
    const raw = assignment.slice(eq + 1);
    let table: Row = out;
    for (const part of path.slice(0, -1)) {
      const inner = table[part];
      if (inner === null || typeof inner !== "object" || Array.isArray(inner)) table[part] = {};
      table = table[part] as Row;
    }
    const key = path[path.length - 1] ?? "";
    if (raw === "") delete table[key];
    else table[key] = parseValue(raw);
  }
  return out;
}

// Merge assignments into the current policy; a match derived from the old command follows a new command.
function merged(current: Row | undefined, assignments: readonly string[]): Row {
  const base: Row = current ? structuredClone(current) : {};
  const next = applyAssignments(base, assignments);
  const command = base.command;
  const derived = Array.isArray(command) && typeof command[0] === "string" && base.match === basename(command[0]);
  const setsMatch = assignments.some((assignment) => assignment.startsWith("match="));
  if (derived && !setsMatch && JSON.stringify(next.command) !== JSON.stringify(base.command)) delete next.match;
  return next;
}

async function policies(ctx: ClientContext): Promise<Record<string, Row>> {
  const [all] = (await ctx.client.call("GetPolicies")) as [Record<string, Row>];
  return all;
}

async function getCommand(ctx: ClientContext, names: string[]): Promise<number> {
  const all = await policies(ctx);
  for (const name of names) if (!(name in all)) throw new CommandError(`no policy named "${name}"; the policies are: ${Object.keys(all).join(", ") || "(none)"}`);
  const shown = names.length === 0 ? all : Object.fromEntries(names.map((name) => [name, all[name] as Row]));
  if (ctx.json) ctx.out.stdout(`${json(names.length === 1 ? shown[names[0] ?? ""] : shown)}\n`);
  else ctx.out.stdout(Object.entries(shown).map(([name, policy]) => policyToml(name, policy)).join("\n"));
  return 0;
}

async function setCommand(ctx: ClientContext, rest: string[]): Promise<number> {
  const [name, ...assignments] = rest;
  if (name === undefined || name.includes("=")) throw new UsageError('policy set needs a name, then KEY=VALUE pairs: selfheal policy set gedit memory_limit_mb=800 restart=always');
  if (assignments.length === 0) throw new UsageError(`policy set ${name} needs at least one KEY=VALUE`);
  const current = ctx.options.replace === true ? undefined : (await policies(ctx))[name];
  const policy = merged(current, assignments);
  const dict = Object.fromEntries(Object.entries(policy).map(([key, value]) => [key, variantOf(value)]));
  await ctx.client.call("SetPolicy", "sa{sv}", [name, dict]);
  const applied = (await policies(ctx))[name] ?? {};
  ctx.out.stdout(ctx.json ? `${json(applied)}\n` : policyToml(name, applied));
  return 0;
}

export async function policyCommand(ctx: ClientContext): Promise<number> {
  const [action, ...rest] = ctx.args;
  switch (action) {
    case "get":
    case undefined:
      return getCommand(ctx, rest);
    case "set":
      return setCommand(ctx, rest);
    case "rm":
    case "remove": {
      const name = oneName({ ...ctx, args: rest }, "policy rm");
      await ctx.client.call("RemovePolicy", "s", [name]);
      ctx.out.stdout(ctx.json ? `${json({ removed: name })}\n` : `${name}: policy removed (its program, if running, is left running and no longer watched)\n`);
      return 0;
    }
    default:
      throw new UsageError(`policy takes get [NAME], set NAME KEY=VALUE..., or rm NAME; got "${action}"`);
  }
}
