// ConfigError: every problem found in a config source, each naming file, line and key.

/** One problem in a config source. */
export interface ConfigProblem {
  /** The file (or other source, e.g. "D-Bus SetPolicy") the problem is in. */
  file: string;
  /** 1-based line, or null when the source has no lines (a D-Bus call). */
  line: number | null;
  /** 1-based column, or null like `line`. */
  column: number | null;
  /** Dotted key path, e.g. `process.gedit.memory_limit_mb`; empty for a syntax error. */
  key: string;
  /** What is wrong and what was expected, e.g. `expected a number greater than 0, got -5 (number)`. */
  message: string;
}

// Render one problem as `file:line: key: message`.
export function formatProblem(problem: ConfigProblem): string {
  const where = problem.line === null ? problem.file : `${problem.file}:${problem.line}`;
  return problem.key === "" ? `${where}: ${problem.message}` : `${where}: ${problem.key}: ${problem.message}`;
}

/** Thrown when a config source is invalid; `message` has one line per problem. */
export class ConfigError extends Error {
  override readonly name = "ConfigError";
  readonly problems: readonly ConfigProblem[];

  constructor(problems: readonly ConfigProblem[]) {
    super(problems.map(formatProblem).join("\n"));
    this.problems = problems;
  }
}

const BARE_KEY = /^[A-Za-z0-9_-]+$/;

// Render a key path as TOML would spell it: process."my.app".env.FOO, command[1].
export function formatKeyPath(path: readonly PropertyKey[]): string {
  let out = "";
  for (const segment of path) {
    if (typeof segment === "number") {
      out += `[${segment}]`;
      continue;
    }
    const name = String(segment);
    const quoted = BARE_KEY.test(name) ? name : JSON.stringify(name);
    out += out === "" ? quoted : `.${quoted}`;
  }
  return out;
}
