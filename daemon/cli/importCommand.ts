// `selfheal import process_list.txt [email_config.txt]`: turn the original
// system's files into config.toml, never overwriting one without --force.
import { existsSync, mkdirSync } from "node:fs";
import { dirname } from "node:path";
import { importOriginal } from "../config/import.js";
import { writeFileAtomicSync } from "../state/atomic.js";

export interface ImportOptions {
  processList: string | undefined;
  emailConfig: string | undefined;
  /** Where to write; "-" prints to standard output. */
  output: string;
  force: boolean;
}

// Returns the exit status: 0 written, 1 refused or failed, 2 bad usage.
export function runImportCommand(options: ImportOptions): number {
  if (options.processList === undefined) {
    process.stderr.write("selfheal import: name the process list, e.g. `selfheal import process_list.txt [email_config.txt]`\n");
    return 2;
  }
  let text: string;
  try {
    text = importOriginal(options.processList, options.emailConfig);
  } catch (error) {
    process.stderr.write(`selfheal import: ${(error as Error).message}\n`);
    return 1;
  }
  if (options.output === "-") {
    process.stdout.write(text);
    return 0;
  }
  if (existsSync(options.output) && !options.force) {
    process.stderr.write(`selfheal import: ${options.output} already exists; use --force to replace it, or --output - to print the result\n`);
    return 1;
  }
  mkdirSync(dirname(options.output), { recursive: true });
  writeFileAtomicSync(options.output, text);
  process.stderr.write(`selfheal import: wrote ${options.output}\n`);
  return 0;
}
