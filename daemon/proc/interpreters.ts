// Programs run through an interpreter: a shebang script (`#!/bin/bash`,
// `#!/usr/bin/env python3`) or `python3 app.py`, `node server.js`. Such a
// process shows the interpreter as its executable and argv[0]; the program
// itself is its script, the first argument that is not one of the
// interpreter's options. This module tells interpreters apart and finds the
// script in an argv, reading each interpreter's options as it does.
import { basename } from "node:path";

/** How one family of interpreters reads its options. */
interface OptionGrammar {
  /** Single-letter options whose value is code given inline: no script file runs. */
  inline: string;
  /** Single-letter options that take a value (attached, or the next argument). */
  valued: string;
  /** Single-letter options whose value names what runs (python -m MODULE, php -f FILE). */
  named: string;
  /** Long options that take the next argument as their value (unless written --opt=value). */
  longValued: readonly string[];
  /** Long options whose value is inline code. */
  longInline: readonly string[];
  /** Options may also start with "+" (a shell's +o, +x). */
  plusOptions?: boolean;
}

const SHELL: OptionGrammar = { inline: "cs", valued: "oO", named: "", longValued: ["--rcfile", "--init-file"], longInline: [], plusOptions: true };
const PYTHON: OptionGrammar = { inline: "c", valued: "WX", named: "m", longValued: ["--check-hash-based-pycs"], longInline: [] };
const NODE: OptionGrammar = {
  inline: "ep",
  valued: "rC",
  named: "",
  longValued: ["--require", "--import", "--loader", "--experimental-loader", "--conditions", "--title", "--env-file", "--input-type"],
  longInline: ["--eval", "--print"],
};
const PERL: OptionGrammar = { inline: "eE", valued: "IMmx", named: "", longValued: [], longInline: [] };
const RUBY: OptionGrammar = { inline: "e", valued: "IrCEFTx", named: "", longValued: [], longInline: [] };
const LUA: OptionGrammar = { inline: "e", valued: "l", named: "", longValued: [], longInline: [] };
const PHP: OptionGrammar = { inline: "rBRE", valued: "cdz", named: "f", longValued: [], longInline: [] };
const GJS: OptionGrammar = { inline: "c", valued: "I", named: "", longValued: ["--include-path", "--coverage-prefix", "--coverage-output", "--profile"], longInline: ["--command"] };
const RSCRIPT: OptionGrammar = { inline: "e", valued: "", named: "", longValued: [], longInline: [] };

/** Interpreters by executable name (versioned names such as python3.11 or perl5.36.0 included). */
const INTERPRETERS: ReadonlyArray<[RegExp, OptionGrammar]> = [
  [/^(sh|ash|bash|dash|zsh|ksh|mksh|yash|busybox)$/, SHELL],
  [/^(python|pypy)[0-9.]*$/, PYTHON],
  [/^(node|nodejs)$/, NODE],
  [/^perl[0-9.]*$/, PERL],
  [/^ruby[0-9.]*$/, RUBY],
  [/^(lua|luajit)[0-9.]*$/, LUA],
  [/^php[0-9.]*$/, PHP],
  [/^gjs(-console)?$/, GJS],
  [/^Rscript$/, RSCRIPT],
];

// The option grammar of an interpreter, by its executable's name; null for any other program.
function grammarOf(program: string): OptionGrammar | null {
  const name = basename(program);
  for (const [pattern, grammar] of INTERPRETERS) if (pattern.test(name)) return grammar;
  return null;
}

// True when a program of this name (or path) runs scripts: bash, sh, python3, node, perl, ruby...
export function isInterpreter(program: string): boolean {
  return grammarOf(program) !== null;
}

// What runs when `interpreter` is given `args` (argv without argv[0]): the script (or module) it
// names, or null when it runs inline code (-c, -e) or reads its program from stdin.
export function scriptOf(interpreter: string, args: readonly string[]): string | null {
  const grammar = grammarOf(interpreter);
  if (grammar === null) return null;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] ?? "";
    if (arg === "--") return args[i + 1] ?? null;
    // "-" is the program read from stdin: no script.
    if (arg === "-") return null;
    const isOption = arg.length > 1 && (arg.startsWith("-") || (grammar.plusOptions && arg.startsWith("+")));
    if (!isOption) return arg;
    if (arg.startsWith("--")) {
      const [option] = arg.split("=", 1) as [string];
      if (grammar.longInline.includes(option)) return null;
      if (grammar.longValued.includes(option) && !arg.includes("=")) i += 1;
      continue;
    }
    // A cluster of single-letter options: -uc, -wle, -Idir, -m module, +o posix.
    const read = readCluster(arg.slice(1), args[i + 1], grammar);
    if (read.kind === "inline") return null;
    if (read.kind === "named") return read.value ?? null;
    if (read.consumedNext) i += 1;
  }
  return null;
}

type ClusterRead = { kind: "inline" } | { kind: "named"; value: string | undefined } | { kind: "options"; consumedNext: boolean };

// Read one cluster of single-letter options; a valued letter takes the rest of the cluster or the next argument.
function readCluster(letters: string, next: string | undefined, grammar: OptionGrammar): ClusterRead {
  for (let j = 0; j < letters.length; j++) {
    const letter = letters.charAt(j);
    const rest = letters.slice(j + 1);
    if (grammar.inline.includes(letter)) return { kind: "inline" };
    if (grammar.named.includes(letter)) return { kind: "named", value: rest !== "" ? rest : next };
    if (grammar.valued.includes(letter)) return { kind: "options", consumedNext: rest === "" };
  }
  return { kind: "options", consumedNext: false };
}

// The name of the program an argv runs: its script's basename when argv[0] is an interpreter
// given one, else argv[0]'s basename. The default `match` of a policy whose command is argv.
export function programName(argv: readonly string[]): string | null {
  const [program, ...args] = argv;
  if (program === undefined) return null;
  // env runs its command in place of itself: ["env", "LANG=C", "python3", "app.py"] is app.py.
  if (basename(program) === "env") {
    const command = args.findIndex((arg) => !arg.startsWith("-") && !arg.includes("="));
    if (command >= 0) return programName(args.slice(command));
  }
  const script = isInterpreter(program) ? scriptOf(program, args) : null;
  return basename(script ?? program);
}
