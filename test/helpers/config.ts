// What parseConfig refuses in a config.toml text, for the config tests.
import { ConfigError, parseConfig } from "../../daemon/config/load.js";

// The problems parseConfig reports for `text`, as [line, key, message]; throws when it accepts it.
export function problemsOf(text: string): [number | null, string, string][] {
  try {
    parseConfig(text, "config.toml");
  } catch (error) {
    if (error instanceof ConfigError) return error.problems.map((problem) => [problem.line, problem.key, problem.message]);
    throw error;
  }
  throw new Error("expected a ConfigError");
}
