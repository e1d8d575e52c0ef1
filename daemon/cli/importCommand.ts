// `selfheal import process_list.txt [email_config.txt]`: turn the original
// system's files into config.toml, never overwriting one without --force.
import { existsSync, mkdirSync } from "node:fs";
import { dirname } from "node:path";
import { importOriginal } from "../config/import.js";
import { parseConfig } from "../config/load.js";
import { writeFileAtomicSync } from "../state/atomic.js";

/** Permission bits of the written config: it may hold the mail password. */
const PRIVATE_MODE = 0o600;
const PASSWORD_WARNING = "the mail password from the email config is in the output in plain text:";
const KEYRING_ADVICE = "or move it to the keyring with `secret-tool store` and password_command (see the comment above [email])";

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
  const holdsPassword = parseConfig(text, options.output).email?.password != null;
  if (options.output === "-") {
    process.stdout.write(text);
    if (holdsPassword) process.stderr.write(`selfheal import: ${PASSWORD_WARNING} save it where only you can read it (chmod 600), ${KEYRING_ADVICE}\n`);
    return 0;
  }
  if (existsSync(options.output) && !options.force) {
    process.stderr.write(`selfheal import: ${options.output} already exists; use --force to replace it, or --output - to print the result\n`);
    return 1;
  }
  mkdirSync(dirname(options.output), { recursive: true });
  // Owner-only (0600) whatever the umask, and a file replaced with --force gets the new mode too.
  writeFileAtomicSync(options.output, text, { mode: PRIVATE_MODE });
  process.stderr.write(`selfheal import: wrote ${options.output}\n`);
  if (holdsPassword) {
    process.stderr.write(`selfheal import: ${PASSWORD_WARNING} it is readable by you only (mode 600); ${KEYRING_ADVICE}\n`);
  }
  return 0;
}
