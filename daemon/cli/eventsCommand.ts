// `selfheal events [--follow] [--limit N] [--since WHEN]`: the event history,
// and with --follow the events as they happen (from the EventLogged signal).
import { formatTime, json, num, text, type Row } from "./format.js";
import { UsageError, type ClientContext } from "./clientContext.js";

/** Events shown without --limit: the last screenful. */
const DEFAULT_LIMIT = 20;
const UNIT_SECONDS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86_400 };
const MICROSECONDS_PER_MS = 1000;

// --since: an ISO 8601 time, or a duration ago such as 30s, 10m, 2h, 1d; as microseconds since the epoch.
export function parseSince(value: string, nowMs = Date.now()): number {
  const relative = /^(\d+(?:\.\d+)?)([smhd])$/.exec(value.trim());
  if (relative) return Math.max(0, Math.round((nowMs - Number(relative[1]) * (UNIT_SECONDS[relative[2] ?? "s"] ?? 1) * 1000) * MICROSECONDS_PER_MS));
  const absolute = Date.parse(value);
  if (Number.isNaN(absolute)) throw new UsageError(`--since takes a time (2026-01-31T08:00) or a duration ago (30s, 10m, 2h, 1d), got "${value}"`);
  return absolute * MICROSECONDS_PER_MS;
}

// --limit: a whole number, 0 for all.
function parseLimit(value: string | boolean | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const limit = Number(value);
  if (typeof value !== "string" || !Number.isInteger(limit) || limit < 0 || limit > 0xffff_ffff) throw new UsageError(`--limit takes a whole number (0 for all), got "${String(value)}"`);
  return limit;
}

// One event as a line: time, kind, message.
function eventLine(event: Row): string {
  return `${formatTime(num(event, "time_usec"))}  ${text(event, "kind").padEnd(16)}  ${text(event, "message")}\n`;
}

function sameEvent(a: Row, b: Row): boolean {
  return num(a, "time_usec") === num(b, "time_usec") && text(a, "kind") === text(b, "kind") && text(a, "message") === text(b, "message");
}

export async function eventsCommand(ctx: ClientContext, waitForInterrupt: () => Promise<void>): Promise<number> {
  if (ctx.args.length > 0) throw new UsageError(`events takes no arguments (only --follow, --limit N, --since WHEN, --json), got: ${ctx.args.join(" ")}`);
  const limit = parseLimit(ctx.options.limit, DEFAULT_LIMIT);
  const since = typeof ctx.options.since === "string" ? parseSince(ctx.options.since) : 0;
  const follow = ctx.options.follow === true;
  const show = (event: Row): void => ctx.out.stdout(ctx.json ? `${JSON.stringify(JSON.parse(json(event)))}\n` : eventLine(event));

  // Subscribe before reading the history, so that nothing falls between the two.
  let history: Row[] | null = null;
  const early: Row[] = [];
  if (follow) {
    await ctx.client.onSignal("EventLogged", (event) => {
      if (history === null) early.push(event as Row);
      else show(event as Row);
    });
    await ctx.client.onOwnerChanged((running) =>
      ctx.out.stderr(running ? "selfheal: the daemon is back\n" : "selfheal: the daemon stopped; waiting for it to come back (Ctrl+C to quit)\n"),
    );
  }
  const [events] = (await ctx.client.call("GetEvents", "tu", [BigInt(since), limit])) as [Row[]];
  for (const event of events) show(event);
  history = events;
  if (!follow) return 0;
  const last = events[events.length - 1];
  for (const event of early) {
    if (last !== undefined && (num(event, "time_usec") < num(last, "time_usec") || events.some((seen) => sameEvent(seen, event)))) continue;
    show(event);
  }
  await waitForInterrupt();
  return 0;
}
