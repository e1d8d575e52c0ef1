// How tests start the built `selfheal` command: the file, and the
// environment and Node.js flags of its `#!/usr/bin/env -S NAME=value node ...`
// line, so they run it as users do.
import { copyFileSync, cpSync, existsSync, readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";

export const DAEMON_JS = resolve(import.meta.dirname, "../../dist/selfheal.js");
/** The code the command loads when needed, beside it (build.mjs). */
const DAEMON_CHUNKS = resolve(import.meta.dirname, "../../dist/selfheal-chunks");

// A copy of the built command (selfheal.js and its chunks) in `dir`, as install.sh copies it; returns the copy's path.
export function copyBuiltDaemon(dir: string): string {
  copyFileSync(DAEMON_JS, join(dir, "selfheal.js"));
  cpSync(DAEMON_CHUNKS, join(dir, "selfheal-chunks"), { recursive: true });
  // ES modules, as install.sh says beside the installed copy (Node.js 18 would load them as CommonJS).
  writeFileSync(join(dir, "package.json"), '{ "type": "module" }\n');
  return join(dir, "selfheal.js");
}

// The Node.js that runs the daemon and the selfheal command in the tests: the one running the
// tests, or SELFHEAL_TEST_NODE (scripts/node18.sh sets it to Node.js 18.19, the oldest supported).
export const DAEMON_NODE = process.env.SELFHEAL_TEST_NODE || process.execPath;
if (!existsSync(DAEMON_NODE)) throw new Error(`SELFHEAL_TEST_NODE=${DAEMON_NODE}: no such file`);

// The #! line's words: "#!/usr/bin/env -S A=1 node --flag" gives ["A=1", "node", "--flag"].
function shebangWords(): string[] {
  const firstLine = readFileSync(DAEMON_JS, "utf8").split("\n", 1)[0] ?? "";
  return firstLine.replace(/^#!\S*env\s+(-S\s+)?/, "").trim().split(/\s+/).filter(Boolean);
}

// The Node.js flags of the #! line (after "node").
export function daemonNodeFlags(): string[] {
  const words = shebangWords();
  return words.slice(words.indexOf("node") + 1);
}

// The environment the #! line sets for the daemon (the NAME=value words before "node").
export function daemonShebangEnv(): Record<string, string> {
  const words = shebangWords();
  return Object.fromEntries(words.slice(0, Math.max(0, words.indexOf("node"))).map((word) => [word.slice(0, word.indexOf("=")), word.slice(word.indexOf("=") + 1)]));
}
