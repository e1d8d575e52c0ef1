// `selfheal policy get [NAME]`, `policy set NAME KEY=VALUE... [--replace]`,
// `policy rm NAME`, `policy reset NAME [KEY...]`: the policies over D-Bus
// (kept in the daemon's overrides file; config.toml is never rewritten). An
// override holds only the keys set over D-Bus; the others follow config.toml,
// and what an override shadows there is shown beside it.
import { parseTomlValue } from "../config/load.js";
import { variantOf } from "../bus/variants.js";
import { json, policyToml, type Row } from "./format.js";
import { CommandError, oneName, UsageError, type ClientContext } from "./clientContext.js";

/** A policy's override as SetPolicy takes it: keys to set (sub-tables nested), keys to leave out. */
interface OverrideEdit {
  set: Row;
  unset: string[];
}

// A KEY=VALUE's value: TOML (numbers, true/false, ["arrays"], "strings"), else the text itself.
export function parseValue(raw: string): unknown {
  try {
    return parseTomlValue(raw);
  } catch {
    return raw;
  }
}

function isTable(value: unknown): value is Row {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

// The value at a dotted key of a record ("cooldown.pause"), or undefined.
function valueAt(record: Row, key: string): unknown {
  const [top, inner] = splitKey(key);
  if (inner === null) return record[top];
  const table = record[top];
  return isTable(table) ? table[inner] : undefined;
}

// A key's two parts: the top-level key and, inside a table, the key there.
function splitKey(key: string): [string, string | null] {
  const dot = key.indexOf(".");
  return dot < 0 ? [key, null] : [key.slice(0, dot), key.slice(dot + 1)];
}

// The strings of a record's list value.
function strings(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((item): item is string => typeof item === "string") : [];
}

// The override a policy record (GetPolicies) carries: its overridden keys with their values, and those left out.
export function overrideOf(record: Row | undefined): OverrideEdit {
  const unset = strings(record?.unset);
  const edit: OverrideEdit = { set: {}, unset };
  for (const key of strings(record?.overridden)) {
    const value = record === undefined ? undefined : valueAt(record, key);
    if (!unset.includes(key) && value !== undefined) setKey(edit.set, key, value);
  }
  return edit;
}

// Set a dotted key's value in a nested row.
function setKey(row: Row, key: string, value: unknown): void {
  const [top, inner] = splitKey(key);
  if (inner === null) {
    row[top] = value;
    return;
  }
  if (!isTable(row[top])) row[top] = {};
  (row[top] as Row)[inner] = value;
}

// Take a dotted key out of a nested row (an emptied table goes too).
function deleteKey(row: Row, key: string): void {
  const [top, inner] = splitKey(key);
  if (inner === null) {
    delete row[top];
    return;
  }
  const table = row[top];
  if (!isTable(table)) return;
  delete table[inner];
  if (Object.keys(table).length === 0) delete row[top];
}

// Apply KEY=VALUE assignments to an override: a value sets the key (a dotted key reaches into a
// table); an empty value leaves the key out whatever config.toml says.
export function applyAssignments(edit: OverrideEdit, assignments: readonly string[]): OverrideEdit {
  const out: OverrideEdit = { set: structuredClone(edit.set), unset: [...edit.unset] };
  for (const assignment of assignments) {
    const eq = assignment.indexOf("=");
    if (eq <= 0) throw new UsageError(`expected KEY=VALUE, got "${assignment}" (e.g. memory_limit_mb=800, restart=always, command='["gedit"]')`);
    const key = assignment.slice(0, eq);
    const raw = assignment.slice(eq + 1);
    if (key.split(".").length > 2) throw new UsageError(`"${key}" reaches too deep: a key is KEY or TABLE.KEY (e.g. cooldown.pause)`);
    out.unset = out.unset.filter((other) => other !== key && !other.startsWith(`${key}.`));
    deleteKey(out.set, key);
    if (raw === "") out.unset.push(key);
    else {
      const value = parseValue(raw);
      // A whole table given at once (cooldown={...}) sets each of its keys.
      if (key.indexOf(".") < 0 && isTable(value) && ["cooldown", "env", "leak", "fork_bomb", "cpu_spike"].includes(key)) {
        for (const [inner, innerValue] of Object.entries(value)) setKey(out.set, `${key}.${inner}`, innerValue);
      } else setKey(out.set, key, value);
    }
  }
  return out;
}

// Every policy in force and every hidden one (config.toml's, removed over D-Bus).
async function policies(ctx: ClientContext): Promise<{ all: Record<string, Row>; hidden: Record<string, Row> }> {
  const [[all], [hidden]] = (await Promise.all([ctx.client.call("GetPolicies"), ctx.client.call("GetHiddenPolicies")])) as [[Record<string, Row>], [Record<string, Row>]];
  return { all, hidden };
}

// Why a name has no policy: hidden, or unknown.
function noPolicy(name: string, known: Record<string, Row>, hidden: Record<string, Row>): CommandError {
  if (name in hidden) return new CommandError(`no policy named "${name}": config.toml has one, but it was removed over D-Bus; "selfheal policy reset ${name}" brings it back`);
  return new CommandError(`no policy named "${name}"; the policies are: ${Object.keys(known).join(", ") || "(none)"}`);
}

// The comment lines that say which of config.toml's policies are hidden.
function hiddenLines(hidden: Record<string, Row>): string {
  return Object.keys(hidden)
    .sort()
    .map((name) => `# [process.${name}] of config.toml is hidden: removed over D-Bus; "selfheal policy reset ${name}" brings it back\n`)
    .join("");
}

async function getCommand(ctx: ClientContext, names: string[]): Promise<number> {
  const { all, hidden } = await policies(ctx);
  for (const name of names) if (!(name in all)) throw noPolicy(name, all, hidden);
  const shown = names.length === 0 ? all : Object.fromEntries(names.map((name) => [name, all[name] as Row]));
  if (ctx.json) ctx.out.stdout(`${json(names.length === 1 ? shown[names[0] ?? ""] : shown)}\n`);
  else ctx.out.stdout(Object.entries(shown).map(([name, policy]) => policyToml(name, policy)).join("\n") + (names.length === 0 ? hiddenLines(hidden) : ""));
  return 0;
}

// Send an override to the daemon and show the policy it makes.
async function sendOverride(ctx: ClientContext, name: string, edit: OverrideEdit): Promise<void> {
  const dict: Record<string, unknown> = Object.fromEntries(Object.entries(edit.set).map(([key, value]) => [key, variantOf(value)]));
  if (edit.unset.length > 0) dict.unset = variantOf([...new Set(edit.unset)].sort());
  await ctx.client.call("SetPolicy", "sa{sv}", [name, dict]);
}

// Show one policy as it is now (or that it is gone).
async function showPolicy(ctx: ClientContext, name: string): Promise<void> {
  const { all } = await policies(ctx);
  const applied = all[name];
  if (applied === undefined) ctx.out.stdout(ctx.json ? `${json({ name, policy: null })}\n` : `${name}: no policy of that name now (config.toml has none)\n`);
  else ctx.out.stdout(ctx.json ? `${json(applied)}\n` : policyToml(name, applied));
}

async function setCommand(ctx: ClientContext, rest: string[]): Promise<number> {
  const [name, ...assignments] = rest;
  if (name === undefined || name.includes("=")) throw new UsageError('policy set needs a name, then KEY=VALUE pairs: selfheal policy set gedit memory_limit_mb=800 restart=always');
  if (assignments.length === 0) throw new UsageError(`policy set ${name} needs at least one KEY=VALUE`);
  // The keys already set over D-Bus stay set (SetPolicy replaces the override), unless --replace.
  const current = ctx.options.replace === true ? undefined : (await policies(ctx)).all[name];
  await sendOverride(ctx, name, applyAssignments(overrideOf(current), assignments));
  await showPolicy(ctx, name);
  return 0;
}

// Back to config.toml: the whole policy (ResetPolicy), or only the keys named.
async function resetCommand(ctx: ClientContext, rest: string[]): Promise<number> {
  const [name, ...keys] = rest;
  if (name === undefined || name === "") throw new UsageError('policy reset needs a process name, e.g. "selfheal policy reset gedit" (or "selfheal policy reset gedit memory_limit_mb")');
  if (keys.length === 0) {
    await ctx.client.call("ResetPolicy", "s", [name]);
    if (!ctx.json) ctx.out.stdout(`${name}: back to config.toml (its override and removal over D-Bus are dropped)\n`);
    await showPolicy(ctx, name);
    return 0;
  }
  const { all, hidden } = await policies(ctx);
  if (!(name in all)) throw noPolicy(name, all, hidden);
  const edit = overrideOf(all[name]);
  for (const key of keys) {
    deleteKey(edit.set, key);
    edit.unset = edit.unset.filter((other) => other !== key && !other.startsWith(`${key}.`));
  }
  await sendOverride(ctx, name, edit);
  await showPolicy(ctx, name);
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
    case "reset":
      return resetCommand(ctx, rest);
    case "rm":
    case "remove": {
      const name = oneName({ ...ctx, args: rest }, "policy rm");
      const { hidden } = await policies(ctx);
      await ctx.client.call("RemovePolicy", "s", [name]);
      const [after] = (await ctx.client.call("GetHiddenPolicies")) as [Record<string, Row>];
      const nowHidden = name in after && !(name in hidden);
      const note = nowHidden ? `; config.toml's [process.${name}] is hidden until "selfheal policy reset ${name}"` : "";
      ctx.out.stdout(ctx.json ? `${json({ removed: name, hidden: nowHidden })}\n` : `${name}: policy removed (its program, if running, is left running and no longer watched)${note}\n`);
      return 0;
    }
    default:
      throw new UsageError(`policy takes get [NAME], set NAME KEY=VALUE..., reset NAME [KEY...], or rm NAME; got "${action}"`);
  }
}
