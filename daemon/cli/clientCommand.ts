// The client commands of `selfheal`: they talk to the running daemon over
// D-Bus. Each takes --json for scripts; the exit status says what happened
// (see EXIT in clientContext.ts).
import { parseArgs } from "node:util";
import { DaemonError, DaemonUnreachableError, ManagerClient } from "../bus/client.js";
import { CommandError, EXIT, UsageError, type ClientContext, type Output } from "./clientContext.js";
import { controlCommand, cooldownCommand } from "./controlCommands.js";
import { eventsCommand } from "./eventsCommand.js";
import { policyCommand } from "./policyCommand.js";
import { statusCommand } from "./statusCommand.js";
import { watchAppCommand } from "./watchAppCommand.js";
import { zombiesCommand } from "./zombiesCommand.js";

/** The client commands, and the options each accepts besides --json. */
const COMMANDS: Record<string, readonly string[]> = {
  status: ["history"],
  start: [],
  stop: [],
  restart: [],
  cooldown: [],
  zombies: ["clean", "end-parent"],
  events: ["follow", "limit", "since"],
  policy: ["replace"],
  "watch-app": ["name"],
  // For shell completion: the policy names, one a line; nothing (and status 0) when the daemon is not running.
  "_names": [],
};

export function isClientCommand(command: string): boolean {
  return Object.hasOwn(COMMANDS, command);
}

const processOutput: Output = {
  stdout: (text) => void process.stdout.write(text),
  stderr: (text) => void process.stderr.write(text),
};

// Resolve on Ctrl+C or SIGTERM (for events --follow).
function interrupted(): Promise<void> {
  return new Promise((resolve) => {
    process.once("SIGINT", () => resolve());
    process.once("SIGTERM", () => resolve());
  });
}

// Parse a client command's options; unknown ones are a usage error.
function parse(command: string, argv: string[]): { args: string[]; options: Record<string, string | boolean | undefined> } {
  const allowed = COMMANDS[command] ?? [];
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    strict: false,
    options: {
      json: { type: "boolean" },
      config: { type: "string" },
      clean: { type: "boolean" },
      "end-parent": { type: "string" },
      follow: { type: "boolean", short: "f" },
      limit: { type: "string", short: "n" },
      since: { type: "string" },
      replace: { type: "boolean" },
      name: { type: "string" },
    },
  });
  for (const key of Object.keys(values)) {
    if (key !== "json" && key !== "config" && !allowed.includes(key)) {
      throw new UsageError(`${command} does not take --${key}${allowed.length ? `; it takes ${allowed.map((o) => `--${o}`).join(", ")} and --json` : "; it takes --json"}`);
    }
  }
  return { args: positionals, options: values };
}

// Run one client command; returns the exit status.
export async function runClientCommand(command: string, argv: string[], env: NodeJS.ProcessEnv, out: Output = processOutput): Promise<number> {
  let client: ManagerClient | null = null;
  try {
    const { args, options } = parse(command, argv);
    client = await ManagerClient.connect({ env });
    const ctx: ClientContext = { client, args, json: options.json === true, options, out };
    switch (command) {
      case "status":
        return await statusCommand(ctx);
      case "start":
      case "stop":
      case "restart":
        return await controlCommand(ctx, command);
      case "cooldown":
        return await cooldownCommand(ctx);
      case "zombies":
        return await zombiesCommand(ctx);
      case "events":
        return await eventsCommand(ctx, interrupted);
      case "policy":
        return await policyCommand(ctx);
      case "watch-app":
        return await watchAppCommand(ctx);
      case "_names":
        return await namesCommand(ctx);
      default:
        throw new UsageError(`unknown command "${command}"`);
    }
  } catch (error) {
    return report(error, out);
  } finally {
    client?.close();
  }
}

// The policy names, one a line, for shell completion.
async function namesCommand(ctx: ClientContext): Promise<number> {
  const [policies] = (await ctx.client.call("GetPolicies")) as [Record<string, unknown>];
  ctx.out.stdout(Object.keys(policies).sort().map((name) => `${name}\n`).join(""));
  return 0;
}

// Say what went wrong and pick the exit status.
function report(error: unknown, out: Output): number {
  if (error instanceof UsageError) {
    out.stderr(`selfheal: ${error.message}\n`);
    return EXIT.usage;
  }
  if (error instanceof DaemonUnreachableError) {
    out.stderr(`selfheal: ${error.message}\n`);
    return EXIT.unreachable;
  }
  if (error instanceof DaemonError) {
    out.stderr(`selfheal: ${error.message} (${error.shortName})\n`);
    return EXIT.failed;
  }
  if (error instanceof CommandError) {
    out.stderr(`selfheal: ${error.message}\n`);
    return EXIT.failed;
  }
  out.stderr(`selfheal: ${error instanceof Error ? error.message : String(error)}\n`);
  return EXIT.failed;
}
