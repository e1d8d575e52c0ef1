// `selfheal watch-app ID [--name NAME]`: watch an installed application by its
// desktop-file id. The daemon resolves the id (SetPolicy with `app`), so what it
// watches is what its own data dirs say; this reports what it made of it: the
// command and match, and whether the app runs now (then it is adopted at once).
import { normaliseAppId } from "../apps/catalog.js";
import { policyNameForApp } from "../apps/policyName.js";
import { variantOf } from "../bus/variants.js";
import { json, num, text, type Row } from "./format.js";
import { CommandError, UsageError, type ClientContext } from "./clientContext.js";

// The policy of the app already in force, by name, if any.
function watching(policies: Record<string, Row>, id: string): string | null {
  for (const [name, policy] of Object.entries(policies)) if (text(policy, "app") === id) return name;
  return null;
}

// What the new (or existing) policy does, in a few lines.
function report(name: string, policy: Row, record: Row, already: boolean): string {
  const command = Array.isArray(policy.command) ? (policy.command as unknown[]).map(String).join(" ") : "";
  const pid = num(record, "pid");
  const running = pid === 0 ? `not running; "selfheal start ${name}" starts it` : `running as PID ${pid}${record.managed === true ? "" : " (adopted)"}`;
  const head = already ? `${text(record, "app_name")} (${text(policy, "app")}) is watched already, as ${name}` : `watching ${text(record, "app_name")} (${text(policy, "app")}) as ${name}`;
  return `${head}: command ${command}, match ${text(policy, "match")}; ${running}\n`;
}

export async function watchAppCommand(ctx: ClientContext): Promise<number> {
  const [input, extra] = ctx.args;
  if (input === undefined || input === "") throw new UsageError('watch-app needs an application id, e.g. "selfheal watch-app org.gnome.TextEditor" ("selfheal apps" lists them)');
  if (extra !== undefined) throw new UsageError(`watch-app takes one application id, got ${ctx.args.length}: ${ctx.args.join(" ")}`);
  let id: string;
  try {
    id = normaliseAppId(input);
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const chosen = typeof ctx.options.name === "string" ? ctx.options.name : null;
  const name = chosen ?? policyNameForApp(id);
  const [before] = (await ctx.client.call("GetPolicies")) as [Record<string, Row>];
  const existing = watching(before, id);
  if (existing !== null && (chosen === null || chosen === existing)) return show(ctx, existing, true);
  if (before[name] !== undefined) {
    throw new CommandError(`a policy named "${name}" exists already (it runs ${JSON.stringify(text(before[name], "match"))}); give the app's policy another name with --name`);
  }
  await ctx.client.call("SetPolicy", "sa{sv}", [name, { app: variantOf(id) }]);
  return show(ctx, name, false);
}

// Show the app's policy and process as they are now.
async function show(ctx: ClientContext, name: string, already: boolean): Promise<number> {
  const [[policies], [record]] = (await Promise.all([ctx.client.call("GetPolicies"), ctx.client.call("GetProcess", "s", [name])])) as [[Record<string, Row>], [Row]];
  const policy = policies[name] ?? {};
  ctx.out.stdout(ctx.json ? `${json({ name, created: !already, policy, process: record })}\n` : report(name, policy, record, already));
  return 0;
}
