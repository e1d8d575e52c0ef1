// `selfheal zombies [--clean]`: the zombies of the last scan; --clean asks the daemon to reap them.
import { formatDuration, json, num, table, text, type Row } from "./format.js";
import { UsageError, type ClientContext } from "./clientContext.js";

export async function zombiesCommand(ctx: ClientContext): Promise<number> {
  if (ctx.args.length > 0) throw new UsageError(`zombies takes no arguments (only --clean and --json), got: ${ctx.args.join(" ")}`);
  if (ctx.options.clean === true) {
    const [reaped, remaining] = (await ctx.client.call("CleanupZombies")) as [number, number];
    ctx.out.stdout(ctx.json ? `${json({ reaped, remaining })}\n` : `reaped ${reaped} zombie${reaped === 1 ? "" : "s"}, ${remaining} remaining\n`);
    return 0;
  }
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
