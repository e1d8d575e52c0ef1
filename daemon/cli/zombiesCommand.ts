// `selfheal zombies [--clean | --end-parent PID]`: the zombies of the last scan;
// --clean asks the daemon to have their parents reap them and says, for each
// parent that did not, why and what can be done; --end-parent ends one parent.
import { formatDuration, json, num, plural, table, text, type Row } from "./format.js";
import { UsageError, type ClientContext } from "./clientContext.js";

/** Why a parent kept its zombies, from ListZombies' parent_sigchld. */
/** Cleanup and ending a parent wait for the reaping: up to 2.5 times the longest [zombies] reap_wait (60 s), and some. */
const REAP_CALL_TIMEOUT_MS = 3 * 60 * 1000;

const WHY_NOT_REAPED: Record<string, string> = {
  blocked: "it blocks SIGCHLD, so it never hears the request to reap",
  ignored: "it ignores SIGCHLD, so the request to reap does nothing",
  handled: "it handles SIGCHLD, but its handler does not collect these children",
  default: "it has no SIGCHLD handler: it collects its children only when its own code calls wait(), and it does not",
};

/** One parent of zombies, as the daemon describes it. */
interface Parent {
  pid: number;
  name: string;
  zombies: number;
  sigchld: string;
  protectedReason: string;
}

// The zombies grouped by parent, the parent holding most first.
function parentsOf(zombies: Row[]): Parent[] {
  const parents = new Map<number, Parent>();
  for (const zombie of zombies) {
    const pid = num(zombie, "ppid");
    const parent = parents.get(pid) ?? { pid, name: text(zombie, "parent_name") || "?", zombies: 0, sigchld: text(zombie, "parent_sigchld"), protectedReason: text(zombie, "parent_protected") };
    parent.zombies += 1;
    parents.set(pid, parent);
  }
  return [...parents.values()].sort((a, b) => b.zombies - a.zombies || a.pid - b.pid);
}

// What the user can do about one parent that kept its zombies.
function advice(parent: Parent): string {
  const why = WHY_NOT_REAPED[parent.sigchld] ?? "it did not collect them when asked";
  const head = `${parent.name} (PID ${parent.pid}) keeps ${plural(parent.zombies, "zombie", "zombies")}: ${why}.`;
  if (parent.protectedReason !== "") {
    return `${head}\n  selfheal will not end it: ${parent.protectedReason}. The zombies go when ${parent.name} ends or reaps them.`;
  }
  return (
    `${head}\n  They hold no memory or CPU, only a process-table entry each. To be rid of them, restart ${parent.name},\n` +
    `  or end it: selfheal zombies --end-parent ${parent.pid}`
  );
}

// The PID given to --end-parent, or a usage error.
function parentPid(value: string | boolean | undefined): number {
  const pid = typeof value === "string" && /^\d+$/.test(value) ? Number(value) : NaN;
  if (!Number.isSafeInteger(pid) || pid <= 0 || pid > 0xffffffff) {
    throw new UsageError(`--end-parent needs the PID of a zombie's parent (the PARENT PID column of "selfheal zombies"), got ${JSON.stringify(value)}`);
  }
  return pid;
}

export async function zombiesCommand(ctx: ClientContext): Promise<number> {
  if (ctx.args.length > 0) throw new UsageError(`zombies takes no arguments (only --clean, --end-parent PID and --json), got: ${ctx.args.join(" ")}`);
  if (ctx.options.clean === true && ctx.options["end-parent"] !== undefined) throw new UsageError("zombies takes --clean or --end-parent PID, not both");
  if (ctx.options["end-parent"] !== undefined) return endParent(ctx, parentPid(ctx.options["end-parent"]));
  if (ctx.options.clean === true) return clean(ctx);
  const [zombies] = (await ctx.client.call("ListZombies")) as [Row[]];
  if (ctx.json) {
    ctx.out.stdout(`${json(zombies)}\n`);
    return 0;
  }
  if (zombies.length === 0) {
    ctx.out.stdout("no zombies\n");
    return 0;
  }
  const rows = zombies.map((zombie) => [
    String(num(zombie, "pid")),
    text(zombie, "name"),
    String(num(zombie, "ppid")),
    text(zombie, "parent_name") || "?",
    formatDuration(num(zombie, "age")),
  ]);
  ctx.out.stdout(table(["PID", "NAME", "PARENT PID", "PARENT", "AGE"], rows));
  return 0;
}

// --clean: ask the parents to reap; then, for each parent still holding zombies, why and what to do.
async function clean(ctx: ClientContext): Promise<number> {
  const [reaped, remaining] = (await ctx.client.call("CleanupZombies", "", [], REAP_CALL_TIMEOUT_MS)) as [number, number];
  const [left] = remaining > 0 ? ((await ctx.client.call("ListZombies")) as [Row[]]) : [[]];
  const parents = parentsOf(left);
  if (ctx.json) {
    ctx.out.stdout(`${json({ reaped, remaining, parents })}\n`);
    return 0;
  }
  const lines = [`reaped ${plural(reaped, "zombie", "zombies")}, ${remaining} remaining`];
  for (const parent of parents) lines.push(advice(parent));
  ctx.out.stdout(`${lines.join("\n")}\n`);
  return 0;
}

// --end-parent PID: end that parent through the daemon (refused for protected processes).
async function endParent(ctx: ClientContext, pid: number): Promise<number> {
  const [before] = (await ctx.client.call("ListZombies")) as [Row[]];
  const name = parentsOf(before).find((parent) => parent.pid === pid)?.name ?? `PID ${pid}`;
  const [reaped, remaining] = (await ctx.client.call("EndZombieParent", "u", [pid], REAP_CALL_TIMEOUT_MS)) as [number, number];
  ctx.out.stdout(ctx.json ? `${json({ pid, reaped, remaining })}\n` : `ended ${name} (PID ${pid}): reaped ${plural(reaped, "zombie", "zombies")}, ${remaining} remaining\n`);
  return 0;
}
