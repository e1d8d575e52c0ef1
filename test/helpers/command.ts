// How tests start the built `selfheal` command: the file, and the Node.js
// flags of its `#!/usr/bin/env -S node ...` line, so they run it as users do.
import { readFileSync } from "node:fs";
import { resolve } from "node:path";

export const DAEMON_JS = resolve(import.meta.dirname, "../../dist/selfheal.js");

export function daemonNodeFlags(): string[] {
  const firstLine = readFileSync(DAEMON_JS, "utf8").split("\n", 1)[0] ?? "";
  return firstLine.replace(/^#!.*?\bnode\b/, "").trim().split(/\s+/).filter(Boolean);
}
