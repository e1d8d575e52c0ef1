// What every client command gets: the connection to the daemon, its
// arguments, where to write, and the exit statuses they share.
import type { ManagerClient } from "../bus/client.js";

/** Exit statuses of the client commands. */
export const EXIT = {
  ok: 0,
  /** The daemon refused or failed the request (unknown process, protected, invalid policy...). */
  failed: 1,
  /** The command line is wrong. */
  usage: 2,
  /** The daemon is not running, or there is no session bus. */
  unreachable: 3,
} as const;

export interface Output {
  stdout(text: string): void;
  stderr(text: string): void;
}

export interface ClientContext {
  client: ManagerClient;
  /** Positional arguments after the command's name. */
  args: string[];
  json: boolean;
  options: Record<string, string | boolean | undefined>;
  out: Output;
}

/** A command line the command cannot use; exits with EXIT.usage. */
export class UsageError extends Error {
  override readonly name = "UsageError";
}

// The one process name a command takes, or a UsageError naming the command.
export function oneName(ctx: ClientContext, command: string): string {
  const [name, extra] = ctx.args;
  if (name === undefined || name === "") throw new UsageError(`${command} needs a process name, e.g. "selfheal ${command} gedit"`);
  if (extra !== undefined) throw new UsageError(`${command} takes one process name, got ${ctx.args.length}: ${ctx.args.join(" ")}`);
  return name;
}

/** A request that cannot be met (like the daemon's own errors); exits with EXIT.failed. */
export class CommandError extends Error {
  override readonly name = "CommandError";
}
