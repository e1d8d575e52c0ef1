// `selfheal help [COMMAND]`, `selfheal COMMAND --help` and `selfheal --version`:
// the overview of every command, and each command's own page with examples.
import packageJson from "../../package.json" with { type: "json" };

/** The version this command line was built from (the daemon's Version property says the running one's). */
export const CLI_VERSION: string = packageJson.version;

/** One command's help page: how it is called, and what it does, with examples. */
interface CommandHelp {
  usage: string;
  text: string;
}

const COMMANDS: Record<string, CommandHelp> = {
  daemon: {
    usage: "selfheal daemon [--config PATH] [--no-bus] [--no-keeper] [--no-sentinel]",
    text: `Run the daemon in the foreground (install.sh's systemd unit or D-Bus activation
normally does this for you).
  --config PATH   the config file (default: $XDG_CONFIG_HOME/selfheal/config.toml)
  --no-bus        without the D-Bus service
  --no-keeper     programs are the daemon's own children: they lose their crash
                  protection when the daemon restarts
  --no-sentinel   the daemon takes its looks between scans (memory limits, fork
                  bombs, adopted programs' ends) itself: more CPU at rest`,
  },
  import: {
    usage: "selfheal import PROCESS_LIST [EMAIL_CONFIG] [--output PATH|-] [--force]",
    text: `Convert the original monitor's process_list.txt (and email_config.txt) into
config.toml. Never replaces an existing file without --force; --output - prints
the result. A file holding a mail password is written readable by you only.
Example:  selfheal import process_list.txt email_config.txt`,
  },
  status: {
    usage: "selfheal status [NAME [--history]] [--json]",
    text: `The daemon's health and a table of the watched programs; with NAME, that one
program in detail (limits, restarts, cooldown, where its policy comes from);
--history adds its memory and CPU of the last 10 minutes as sparklines.
Examples:  selfheal status
           selfheal status gedit
           selfheal status gedit --history`,
  },
  start: { usage: "selfheal start NAME [--json]", text: "Start a watched program that is not running." },
  stop: {
    usage: "selfheal stop NAME [--json]",
    text: "Stop a watched program (SIGTERM, then SIGKILL after its stop_timeout). A\nprogram you stop is not restarted until you start it.",
  },
  restart: { usage: "selfheal restart NAME [--json]", text: "Stop a watched program and start it again." },
  cooldown: {
    usage: "selfheal cooldown [list | reset NAME] [--json]",
    text: `The restarts counted in each program's window and the cooldowns in force;
"reset NAME" ends a program's cooldown so it may be restarted again at once.`,
  },
  zombies: {
    usage: "selfheal zombies [--clean | --end-parent PID] [--json]",
    text: `The zombie processes of the last scan and their parents.
  --clean           ask each zombie's parent to reap it (SIGCHLD); says which parents
                    did not, and why
  --end-parent PID  end that zombie parent (SIGTERM, then SIGKILL) so its zombies
                    are reaped; refused for PID 1, the session's own programs and
                    other users' processes
Examples:  selfheal zombies --clean
           selfheal zombies --end-parent 4242`,
  },
  events: {
    usage: "selfheal events [--follow] [--limit N] [--since WHEN] [--json]",
    text: `The event history (crashes, restarts, limits, anomalies, cooldowns, zombies).
WHEN is a time (2026-01-31T08:00) or an age (30s, 10m, 2h, 1d).
Examples:  selfheal events --since 1h
           selfheal events --follow`,
  },
  policy: {
    usage: "selfheal policy get [NAME] | set NAME KEY=VALUE... [--replace] | reset NAME [KEY...] | rm NAME",
    text: `Read or change the policies in force. get shows them as config.toml tables;
set changes keys over config.toml (kept in the daemon's overrides file; KEY=
leaves a key out, --replace drops the keys set earlier); reset goes back to
config.toml; rm removes a policy (its program is left running).
Examples:  selfheal policy set gedit memory_limit_mb=300
           selfheal policy reset gedit`,
  },
  "watch-app": {
    usage: "selfheal watch-app ID [--name NAME] [--json]",
    text: `Watch an installed application by its desktop-file id (the .desktop suffix is
optional; "selfheal apps" lists them): a policy with app = ID is set over D-Bus,
named after the id unless --name is given. Its command and match come from the
app's desktop file; a running copy is adopted at once. Says what it made: the
command, the match, and whether the app runs. Flatpak apps are refused (see
docs/configuration.md).
Example:  selfheal watch-app org.gnome.TextEditor`,
  },
  apps: {
    usage: "selfheal apps [--all] [--json]",
    text: `The installed applications watch-app can name, one a line: the id (without
.desktop), a tab, and the name. Read from your XDG data dirs (~/.local/share,
$XDG_DATA_DIRS, Flatpak's exports); the daemon does not need to run.
  --all   also the apps menus do not show (NoDisplay=true)
Example:  selfheal apps | cut -f1`,
  },
  help: { usage: "selfheal help [COMMAND]", text: "This overview, or one command's page." },
};

/** Every command name, in the order of the overview (for completion and checks). */
export const COMMAND_NAMES: readonly string[] = Object.keys(COMMANDS);

export const USAGE = `Usage: selfheal <command> [options]

selfheal keeps your programs running: it restarts the ones that crash, holds
them to CPU and memory limits, and tells you what happened.

Commands:
  status [NAME [--history]]      health and the watched programs (or one in detail; --history:
                                 its memory and CPU of the last 10 minutes as sparklines)
  start|stop|restart NAME        start, stop or restart a watched program
  cooldown [reset NAME]          restart windows and cooldowns; end one
  zombies [--clean | --end-parent PID]
                                 zombie processes; ask their parents to reap them, or end one parent
  events [--follow] [--limit N] [--since WHEN]
                                 the event history
  policy get|set|reset|rm ...    read or change the policies in force
  watch-app ID [--name NAME]     watch an installed application by its desktop-file id
  apps [--all]                   the installed applications, id and name
  import PROCESS_LIST [EMAIL_CONFIG]
                                 convert the original monitor's files to config.toml
  daemon                         run the daemon in the foreground
  help [COMMAND]                 this overview, or one command's page

Options:
  --config PATH   the config file (default: $XDG_CONFIG_HOME/selfheal/config.toml)
  --json          (commands that talk to the daemon) machine-readable output
  -h, --help      show help;  --version  show the version

Exit status: 0 done, 1 the daemon refused or failed (unknown program, protected,
invalid policy), 2 bad usage, 3 the daemon is not running or there is no session bus.
See "selfheal help COMMAND" for a command's options and examples.
`;

// One command's page, or null when there is no such command.
export function commandHelp(command: string): string | null {
  const help = Object.hasOwn(COMMANDS, command) ? COMMANDS[command] : undefined;
  return help === undefined ? null : `Usage: ${help.usage}\n\n${help.text}\n`;
}
