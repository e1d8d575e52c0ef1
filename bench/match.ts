// The figures behind the choice of a linear-time engine for `match = "/regex/"`:
// JavaScript's own backtracking engine, V8's experimental linear engine (the
// `l` flag), RE2 through re2js (pure JavaScript, what selfheal uses) and,
// when installed, RE2 through the native `re2` package (not a dependency: it
// builds C++ from source where no prebuilt binary can be fetched;
// `npm install --no-save re2` to compare). Each engine tests a pattern
// against 300 desktop-like command lines joined afresh, as a scan does, and
// against one long line.
import { performance } from "node:perf_hooks";
import { setFlagsFromString } from "node:v8";
import { RE2JS } from "re2js";
import { printTable } from "./scan.js";

const LINES = 300;
const ROUNDS = 200;
const LONG_ROUNDS = 20;
const LONG_LINE_CHARS = 128 * 1024;
/** The patterns measured; the last backtracks catastrophically, so JavaScript's engine is left out of it. */
const PATTERNS = ["^python3 .*server\\.py", "gedit", "program-2\\d\\d/bin", "(a+)+$"];
const CATASTROPHIC = "(a+)+$";
const LINEAR_FLAG = "l";

type Test = (text: string) => boolean;
type Engine = { name: string; compile: (pattern: string) => Test };

// A command line like a desktop's, of a few dozen to a few hundred characters.
function commandLines(): string[][] {
  return Array.from({ length: LINES }, (_, i) => [`/usr/lib/program-${i}/bin/prog`, `--option=${i}`, "--another-flag", `value${"x".repeat((i * 37) % 200)}`]);
}

// Time `run` `rounds` times after a few warm-up rounds.
function time(run: () => void, rounds: number): number[] {
  for (let i = 0; i < Math.min(rounds, 10); i++) run();
  const times: number[] = [];
  for (let i = 0; i < rounds; i++) {
    const start = performance.now();
    run();
    times.push(performance.now() - start);
  }
  return times;
}

// The engines available in this process.
async function engines(): Promise<Engine[]> {
  setFlagsFromString("--enable-experimental-regexp-engine");
  const list: Engine[] = [
    { name: "JavaScript (backtracking)", compile: (pattern) => ((regex) => (text: string) => regex.test(text))(new RegExp(pattern)) },
    // The "l" flag exists only with --enable-experimental-regexp-engine, set just above (unknown to ESLint).
    { name: "V8 linear (l flag)", compile: (pattern) => ((regex) => (text: string) => regex.test(text))(new RegExp(pattern, LINEAR_FLAG)) },
    { name: "re2js (selfheal's)", compile: (pattern) => ((regex) => (text: string) => regex.test(text))(RE2JS.compile(pattern)) },
  ];
  try {
    const native = (await import(/* @vite-ignore */ "re2" as string)) as { default: new (pattern: string) => { test(text: string): boolean } };
    list.push({ name: "re2 (native)", compile: (pattern) => ((regex) => (text: string) => regex.test(text))(new native.default(pattern)) });
  } catch {
    console.log("(the native re2 package is not installed: its rows are left out)");
  }
  return list;
}

export async function benchMatch(): Promise<void> {
  const lines = commandLines();
  const long = ["/usr/bin/python3", "a".repeat(LONG_LINE_CHARS)];
  const list = await engines();
  for (const pattern of PATTERNS) {
    const rows: Array<[string, number[]]> = [];
    for (const engine of list) {
      if (pattern === CATASTROPHIC && engine.name.startsWith("JavaScript")) continue;
      const test = engine.compile(pattern);
      rows.push([`${engine.name}: ${LINES} lines`, time(() => lines.forEach((argv) => test(argv.join(" "))), ROUNDS)]);
      rows.push([`${engine.name}: one of 128 KiB`, time(() => test(`${long.join(" ")}!`), LONG_ROUNDS)]);
    }
    console.log(`\nmatch = "/${pattern}/" against command lines`);
    printTable(rows);
  }
}
