// The `selfheal` command line: `selfheal daemon` runs the daemon; the other
// commands convert old configs or talk to a running daemon.
import { parseArgs } from "node:util";
import { configPath } from "./config/paths.js";
import { runDaemonCommand } from "./cli/daemonCommand.js";
import { runImportCommand } from "./cli/importCommand.js";
import { CLIENT_USAGE, isClientCommand, runClientCommand } from "./cli/clientCommand.js";
import { exitWhenDone } from "./cli/exit.js";

const USAGE = `Usage: selfheal <command> [options]

Commands:
  daemon [--config PATH] [--no-bus] [--no-keeper] [--log-file]
                                 run the daemon in the foreground (--no-bus: without the D-Bus service;
                                 --no-keeper: programs are its own children, unprotected across its restarts;
                                 --log-file: log to $XDG_STATE_HOME/selfheal/daemon.log, rotated, not stderr)
  import PROCESS_LIST [EMAIL_CONFIG] [--output PATH|-] [--force]
                                 convert the original system's files to config.toml

Commands that talk to the running daemon over D-Bus:
${CLIENT_USAGE}
Options:
  --config PATH   the config file (default: $XDG_CONFIG_HOME/selfheal/config.toml)
  -h, --help      show this help
`;

// Dispatch one command line; returns the exit status.
export async function main(argv: string[], env: NodeJS.ProcessEnv): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    strict: false,
    options: {
      config: { type: "string" },
      help: { type: "boolean", short: "h" },
      output: { type: "string" },
      force: { type: "boolean" },
      "no-bus": { type: "boolean" },
      "no-keeper": { type: "boolean" },
      "log-file": { type: "boolean" },
    },
  });
  const [command] = positionals;
  if (values.help || command === undefined) {
    process.stdout.write(USAGE);
    return command === undefined && !values.help ? 2 : 0;
  }
  const config = typeof values.config === "string" ? values.config : configPath(env);
  // The client commands parse their own options; these two take only the ones above.
  if (command === "daemon" || command === "import") {
    const unknown = unknownOptions(argv);
    if (unknown.length > 0) {
      process.stderr.write(`selfheal ${command}: unknown option ${unknown.join(", ")}\n\n${USAGE}`);
      return 2;
    }
  }
  switch (command) {
    case "daemon":
      return runDaemonCommand(config, env, {
        bus: values["no-bus"] !== true,
        keeper: values["no-keeper"] !== true,
        logFile: values["log-file"] === true,
      });
    case "import":
      return runImportCommand({
        processList: positionals[1],
        emailConfig: positionals[2],
        output: typeof values.output === "string" ? values.output : config,
        force: values.force === true,
      });
    default:
      if (isClientCommand(command)) return runClientCommand(command, argv.filter((_, index) => index !== argv.indexOf(command)), env);
      process.stderr.write(`selfheal: unknown command "${command}"\n\n${USAGE}`);
      return 2;
  }
}

const KNOWN_OPTIONS = new Set(["--config", "--help", "-h", "--output", "--force", "--no-bus", "--no-keeper", "--log-file"]);

// Options of argv that neither `daemon` nor `import` knows (a typo must not pass silently).
function unknownOptions(argv: string[]): string[] {
  return argv.filter((arg) => arg.startsWith("-") && arg !== "-" && !KNOWN_OPTIONS.has(arg.split("=")[0]!));
}

exitWhenDone(main(process.argv.slice(2), process.env));
