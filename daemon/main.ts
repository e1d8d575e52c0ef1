// The `selfheal` command line: `selfheal daemon` runs the daemon; the other
// commands convert old configs or talk to a running daemon. Each command's
// code is loaded when it runs (the build puts it in chunks of its own), so
// the daemon holds no client or import code in memory, and a client command
// none of the daemon's.
import { parseArgs } from "node:util";
import { configPath } from "./config/paths.js";
import { CLI_VERSION, COMMAND_NAMES, commandHelp, USAGE } from "./cli/help.js";
import { exitWhenDone } from "./cli/exit.js";

const COMMAND_LIST = COMMAND_NAMES.join(", ");

// Dispatch one command line; returns the exit status.
export async function main(argv: string[], env: NodeJS.ProcessEnv): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    strict: false,
    options: {
      config: { type: "string" },
      help: { type: "boolean", short: "h" },
      version: { type: "boolean", short: "V" },
      output: { type: "string" },
      force: { type: "boolean" },
      "no-bus": { type: "boolean" },
      "no-keeper": { type: "boolean" },
      "no-sentinel": { type: "boolean" },
      "log-file": { type: "boolean" },
      all: { type: "boolean" },
      json: { type: "boolean" },
    },
  });
  const [command] = positionals;
  if (values.version === true && command === undefined) {
    process.stdout.write(`selfheal ${CLI_VERSION}\n`);
    return 0;
  }
  if (command === "help") return showHelp(positionals[1]);
  if (values.help === true) return showHelp(command);
  if (command === undefined) {
    process.stderr.write(USAGE);
    return 2;
  }
  const config = typeof values.config === "string" ? values.config : configPath(env);
  // The client commands parse their own options; these take only the ones above.
  if (command === "daemon" || command === "import" || command === "apps") {
    const unknown = unknownOptions(argv, command === "apps" ? APPS_OPTIONS : KNOWN_OPTIONS);
    if (unknown.length > 0) {
      process.stderr.write(`selfheal ${command}: unknown option ${unknown.join(", ")}\n\n${commandHelp(command) ?? USAGE}`);
      return 2;
    }
  }
  switch (command) {
    case "daemon":
      return (await import("./cli/daemonCommand.js")).runDaemonCommand(config, env, {
        bus: values["no-bus"] !== true,
        keeper: values["no-keeper"] !== true,
        sentinel: values["no-sentinel"] !== true,
        logFile: values["log-file"] === true,
      });
    case "import":
      return (await import("./cli/importCommand.js")).runImportCommand({
        processList: positionals[1],
        emailConfig: positionals[2],
        output: typeof values.output === "string" ? values.output : config,
        force: values.force === true,
      });
    case "apps":
      return (await import("./cli/appsCommand.js")).runAppsCommand({ all: values.all === true, json: values.json === true }, env);
    default: {
      const client = await import("./cli/clientCommand.js");
      if (client.isClientCommand(command)) return client.runClientCommand(command, argv.filter((_, index) => index !== argv.indexOf(command)), env);
      process.stderr.write(`selfheal: unknown command "${command}"; the commands are ${COMMAND_LIST} (see "selfheal help")\n`);
      return 2;
    }
  }
}

// `selfheal help [COMMAND]`: the overview, or the command's page; an unknown command is a usage error.
function showHelp(command: string | undefined): number {
  if (command === undefined) {
    process.stdout.write(USAGE);
    return 0;
  }
  const page = commandHelp(command);
  if (page === null) {
    process.stderr.write(`selfheal help: no command named "${command}"; the commands are ${COMMAND_LIST}\n`);
    return 2;
  }
  process.stdout.write(page);
  return 0;
}

const KNOWN_OPTIONS = new Set(["--config", "--help", "-h", "--output", "--force", "--no-bus", "--no-keeper", "--no-sentinel", "--log-file"]);
/** `apps` reads no config and writes nothing: it takes only these. */
const APPS_OPTIONS = new Set(["--all", "--json", "--help", "-h"]);

// Options of argv that the command (daemon, import or apps) does not know (a typo must not pass silently).
function unknownOptions(argv: string[], known: ReadonlySet<string>): string[] {
  return argv.filter((arg) => arg.startsWith("-") && arg !== "-" && !known.has(arg.split("=")[0]!));
}

exitWhenDone(main(process.argv.slice(2), process.env));
