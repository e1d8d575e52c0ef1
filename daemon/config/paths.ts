// Where selfheal keeps its files, following the XDG Base Directory specification.
import { homedir } from "node:os";
import { isAbsolute, join } from "node:path";

/** An environment to read XDG variables from; `process.env` unless a test passes its own. */
export type Env = Readonly<Record<string, string | undefined>>;

/** The directory name selfheal uses under the XDG base directories. */
export const APP_DIR = "selfheal";
export const CONFIG_FILE = "config.toml";
export const OVERRIDES_FILE = "overrides.json";

// The user's home: $HOME, else the password database's entry.
function homeOf(env: Env): string {
  const home = env.HOME;
  return home !== undefined && home !== "" ? home : homedir();
}

// An XDG base directory variable, or the fallback under $HOME when it is unset, empty or relative (as the spec says).
function xdgBase(env: Env, variable: string, fallback: string): string {
  const value = env[variable];
  return value !== undefined && isAbsolute(value) ? value : join(homeOf(env), fallback);
}

// $XDG_CONFIG_HOME/selfheal (default ~/.config/selfheal).
export function configDir(env: Env = process.env): string {
  return join(xdgBase(env, "XDG_CONFIG_HOME", ".config"), APP_DIR);
}

// $XDG_CONFIG_HOME/selfheal/config.toml, the hand-written policies.
export function configPath(env: Env = process.env): string {
  return join(configDir(env), CONFIG_FILE);
}

// $XDG_DATA_HOME (default ~/.local/share): the user's own applications, icons and Flatpak exports.
export function dataHome(env: Env = process.env): string {
  return xdgBase(env, "XDG_DATA_HOME", join(".local", "share"));
}

// $XDG_STATE_HOME/selfheal (default ~/.local/state/selfheal): cooldowns, event log, overrides.
export function stateDir(env: Env = process.env): string {
  return join(xdgBase(env, "XDG_STATE_HOME", join(".local", "state")), APP_DIR);
}

// $XDG_STATE_HOME/selfheal/overrides.json, the policies set over D-Bus.
export function overridesPath(env: Env = process.env): string {
  return join(stateDir(env), OVERRIDES_FILE);
}

// $XDG_RUNTIME_DIR/selfheal: the keepers' records of the programs they hold. Without
// XDG_RUNTIME_DIR, a folder under the state folder (records name the boot they belong to).
export function runtimeDir(env: Env = process.env): string {
  const runtime = env.XDG_RUNTIME_DIR;
  return runtime !== undefined && isAbsolute(runtime) ? join(runtime, APP_DIR) : join(stateDir(env), "run");
}
