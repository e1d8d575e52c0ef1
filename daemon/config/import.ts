// Convert the original monitor's files into config.toml text:
// process_list.txt (`name cpu_limit memory_limit_MB` per line) and
// email_config.txt (`key=value` per line). Bad lines are reported by file:line.
import type { ConfigProblem } from "./errors.js";

import { readFileSync } from "node:fs";
import { basename } from "node:path";

import { ConfigError, formatKeyPath } from "./errors.js";
import { describeIssues } from "./issues.js";
import { validatePolicyObject } from "./load.js";
import { DEFAULTS, RawEmailSchema } from "./schema.js";
import { tomlCommentText, tomlKeyValue, tomlTableHeader, tomlValue } from "./tomlText.js";

/** A file's name (for messages and comments) and its text. */
export interface SourceText {
  file: string;
  text: string;
}

/** The original's fallbacks when email_config.txt leaves a key out (its TLS default follows from port 465). */
const ORIGINAL_EMAIL_DEFAULTS = { smtp_host: "smtp.gmail.com", smtp_port: 465, enabled: false };

/** The original's name for each [email] key, for messages about a key the file lacks. */
const ORIGINAL_EMAIL_NAMES: Record<EmailKey, string> = {
  enabled: "enabled",
  smtp_host: "smtp_server",
  smtp_port: "smtp_port",
  from: "sender_email",
  to: "receiver_email",
  username: "username",
  password: "sender_password",
  implicit_tls: "use_ssl",
  starttls: "use_tls",
};

/** email_config.txt keys (the original's and common variants) and the [email] key each becomes. */
const EMAIL_KEY_MAP: Record<string, EmailKey> = {
  enabled: "enabled",
  smtp_server: "smtp_host",
  smtp_host: "smtp_host",
  smtp_port: "smtp_port",
  sender_email: "from",
  from: "from",
  sender_password: "password",
  smtp_password: "password",
  password: "password",
  receiver_email: "to",
  recipient_email: "to",
  to: "to",
  smtp_user: "username",
  smtp_username: "username",
  username: "username",
  use_ssl: "implicit_tls",
  use_tls: "starttls",
  starttls: "starttls",
};
type EmailKey = "enabled" | "smtp_host" | "smtp_port" | "from" | "to" | "username" | "password" | "implicit_tls" | "starttls";

/** process_list.txt's column names for the policy keys its columns become. */
const ORIGINAL_COLUMN_NAMES: Record<string, string> = { cpu_limit: "cpu_limit", memory_limit_mb: "memory_limit_MB", command: "process_name" };

const TRUE_WORDS = new Set(["true", "1", "yes", "on"]);
const FALSE_WORDS = new Set(["false", "0", "no", "off"]);
const NUMBER = /^-?\d+(\.\d+)?$/;

/** One policy read from process_list.txt. */
interface ImportedProcess {
  name: string;
  command: string[];
  cpuLimit: number;
  memoryMb: number;
  line: number;
  source: string;
}

/** The [email] keys read from email_config.txt, with the line each came from. */
interface ImportedEmail {
  values: Partial<Record<EmailKey, string | number | boolean | string[]>>;
  /** Where each key was written: its line and the name the file used. */
  origins: Partial<Record<EmailKey, { line: number; key: string }>>;
  ignored: { key: string; line: number }[];
}

// The meaningful lines of an original file: 1-based number and text, without blanks and
// # comment lines (and, where values cannot hold a #, trailing # comments).
function contentLines(text: string, trailingComments: boolean): { line: number; content: string }[] {
  return text.split(/\r?\n/).flatMap((raw, index) => {
    const content = (trailingComments ? raw.replace(/(^|\s)#.*$/, "") : raw).trim();
    return content === "" || content.startsWith("#") ? [] : [{ line: index + 1, content }];
  });
}

// A problem at one line of an original file.
function lineProblem(file: string, line: number | null, key: string, message: string): ConfigProblem {
  return { file, line, column: line === null ? null : 1, key, message };
}

// Escape a command line so it can be matched literally inside a /regex/.
function escapeRegex(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

// A name not used yet: gedit, gedit-2, gedit-3, ...
function uniqueName(base: string, taken: Set<string>): string {
  let name = base;
  for (let n = 2; taken.has(name); n++) name = `${base}-${n}`;
  return name;
}

// Read process_list.txt: `command... cpu_limit memory_limit_MB`, as the original split it.
function readProcessList(source: SourceText, problems: ConfigProblem[]): ImportedProcess[] {
  const processes: ImportedProcess[] = [];
  const taken = new Set<string>();
  for (const { line, content } of contentLines(source.text, true)) {
    const fields = content.split(/\s+/);
    if (fields.length < 3) {
      problems.push(lineProblem(source.file, line, "", `expected "process_name cpu_limit memory_limit_MB", got ${JSON.stringify(content)}`));
      continue;
    }
    const command = fields.slice(0, -2);
    const [cpu, memory] = fields.slice(-2) as [string, string];
    const badNumbers = [["cpu_limit", cpu], ["memory_limit_MB", memory]].filter(([, value]) => !NUMBER.test(value ?? ""));
    for (const [key, value] of badNumbers) problems.push(lineProblem(source.file, line, key ?? "", `expected a number, got ${JSON.stringify(value)}`));
    if (badNumbers.length > 0) continue;
    const name = uniqueName(basename(command[0] ?? ""), taken);
    taken.add(name);
    processes.push({ name, command, cpuLimit: Number(cpu), memoryMb: Number(memory), line, source: fields.join(" ") });
  }
  return processes;
}

// Check each imported process against the policy schema, reporting problems at its line.
function checkProcesses(processes: ImportedProcess[], file: string, problems: ConfigProblem[]): void {
  for (const process of processes) {
    try {
      validatePolicyObject(process.name, rawPolicyOf(process), file);
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      const prefix = `${formatKeyPath(["process", process.name])}.`;
      for (const problem of error.problems) {
        const key = problem.key.startsWith(prefix) ? ORIGINAL_COLUMN_NAMES[problem.key.slice(prefix.length)] ?? problem.key : "process_name";
        problems.push({ ...problem, key, line: process.line, column: 1 });
      }
    }
  }
}

// The policy keys an imported process becomes.
function rawPolicyOf(process: ImportedProcess): Record<string, unknown> {
  const raw: Record<string, unknown> = { command: process.command, cpu_limit: process.cpuLimit, memory_limit_mb: process.memoryMb };
  if (process.command.length > 1) raw.match = `/${escapeRegex(process.command.join(" "))}/`;
  return raw;
}

// Convert one email_config.txt value to the type its [email] key takes.
function emailValue(key: EmailKey, value: string): string | number | boolean | string[] | Error {
  if (key === "enabled" || key === "implicit_tls" || key === "starttls") {
    const word = value.toLowerCase();
    if (TRUE_WORDS.has(word)) return true;
    if (FALSE_WORDS.has(word)) return false;
    return new Error(`expected true or false, got ${JSON.stringify(value)}`);
  }
  if (key === "smtp_port") return /^\d+$/.test(value) ? Number(value) : new Error(`expected a port number, got ${JSON.stringify(value)}`);
  if (key === "to") {
    const recipients = value.split(/[,;\s]+/).filter((address) => address !== "");
    return recipients.length === 1 ? (recipients[0] ?? value) : recipients;
  }
  return value;
}

// Read email_config.txt's key=value lines.
function readEmailConfig(source: SourceText, problems: ConfigProblem[]): ImportedEmail {
  const email: ImportedEmail = { values: {}, origins: {}, ignored: [] };
  for (const { line, content } of contentLines(source.text, false)) {
    const equals = content.indexOf("=");
    if (equals <= 0) {
      problems.push(lineProblem(source.file, line, "", `expected "key=value", got ${JSON.stringify(content)}`));
      continue;
    }
    const originalKey = content.slice(0, equals).trim();
    const key = EMAIL_KEY_MAP[originalKey.toLowerCase()];
    if (key === undefined) {
      email.ignored.push({ key: originalKey, line });
      continue;
    }
    const value = emailValue(key, content.slice(equals + 1).trim());
    if (value instanceof Error) problems.push(lineProblem(source.file, line, originalKey, value.message));
    else [email.values[key], email.origins[key]] = [value, { line, key: originalKey }];
  }
  return email;
}

// The [email] keys to write: the file's values, the original's fallbacks, and the sender as login.
function emailRaw(email: ImportedEmail): Record<string, unknown> {
  const values = { ...email.values };
  if (values.implicit_tls === false && values.starttls === undefined) values.starttls = true;
  if (values.starttls === true && values.implicit_tls === false) delete values.implicit_tls;
  if (values.password === "") delete values.password;
  if (values.username === undefined && values.password !== undefined && typeof values.from === "string") values.username = values.from;
  return { ...ORIGINAL_EMAIL_DEFAULTS, ...values };
}

// Check the [email] keys against the schema, reporting problems at the original's lines.
function checkEmail(raw: Record<string, unknown>, email: ImportedEmail, file: string, problems: ConfigProblem[]): void {
  const result = RawEmailSchema.safeParse(raw);
  if (result.success) return;
  for (const problem of describeIssues(RawEmailSchema, raw, result.error.issues)) {
    const key = String(problem.path[0]) as EmailKey;
    const origin = email.origins[key];
    problems.push(lineProblem(file, origin?.line ?? null, origin?.key ?? ORIGINAL_EMAIL_NAMES[key] ?? key, problem.message));
  }
}

// The [process.NAME] table of one imported process, with a comment naming its origin.
function processTable(process: ImportedProcess, file: string): string {
  const raw = rawPolicyOf(process);
  const lines = [`# ${tomlCommentText(`${file} line ${process.line}: ${process.source}`)}`, tomlTableHeader(["process", process.name])];
  lines.push(tomlKeyValue("command", raw.command));
  if (raw.match !== undefined) lines.push(`${tomlKeyValue("match", raw.match)}  # the whole command line`);
  lines.push(`${tomlKeyValue("cpu_limit", raw.cpu_limit)}  # percent of one core`);
  lines.push(tomlKeyValue("memory_limit_mb", raw.memory_limit_mb));
  return lines.join("\n");
}

/** Order and end-of-line notes for the [email] keys. */
const EMAIL_KEY_NOTES: [EmailKey, string][] = [
  ["enabled", ""],
  ["smtp_host", ""],
  ["smtp_port", ""],
  ["implicit_tls", "TLS from the first byte (the original's use_ssl)"],
  ["starttls", "upgrade the connection with STARTTLS"],
  ["from", ""],
  ["to", ""],
  ["username", ""],
  ["password", ""],
];

// The [email] table, with notes on what was not imported.
function emailTable(raw: Record<string, unknown>, email: ImportedEmail, file: string): string {
  const lines = [`# Imported from ${tomlCommentText(file)}.`];
  if (raw.password !== undefined) {
    lines.push(
      "# This file now holds the mail password in plain text: keep it private (chmod 600; selfheal refuses it",
      "# otherwise). Better, keep it in the keyring:",
      `#   secret-tool store --label=selfheal service selfheal user ${String(raw.username)}`,
      "# then replace the password line with",
      `#   password_command = ${tomlValue(["secret-tool", "lookup", "service", "selfheal", "user", String(raw.username)])}`,
    );
  }
  lines.push("[email]");
  for (const [key, note] of EMAIL_KEY_NOTES) {
    if (raw[key] === undefined) continue;
    lines.push(`${tomlKeyValue(key, raw[key])}${note === "" ? "" : `  # ${note}`}`);
  }
  lines.push(`rate_limit_minutes = ${DEFAULTS.email.rate_limit_minutes}  # at most one mail per process and kind in this time`);
  for (const { key, line } of email.ignored) lines.push(`# not imported: ${tomlValue(key)} (${tomlCommentText(file)} line ${line}) has no [email] equivalent`);
  return lines.join("\n");
}

// The file's header comment.
function header(files: string[]): string {
  return [
    `# selfheal configuration, imported from ${tomlCommentText(files.join(" and "))}.`,
    "# Keys left out take their defaults (see the configuration reference). Unlike the",
    "# original, a process is acted on after `sustain` (default 2) scans over its CPU limit,",
    "# or `memory_sustain` (default 0.05 s) over its memory limit.",
    "",
    "[settings]",
    `interval = ${DEFAULTS.settings.interval.toFixed(1)}  # seconds between scans`,
  ].join("\n");
}

// Problems of one file in line order; those without a line (a missing key) last.
function byLine(problems: ConfigProblem[]): ConfigProblem[] {
  return [...problems].sort((a, b) => (a.line ?? Infinity) - (b.line ?? Infinity));
}

// Convert the original files' text into config.toml text; throws ConfigError listing every bad line.
export function convertOriginal(processList: SourceText, emailConfig?: SourceText): string {
  const listProblems: ConfigProblem[] = [];
  const processes = readProcessList(processList, listProblems);
  checkProcesses(processes, processList.file, listProblems);
  const emailProblems: ConfigProblem[] = [];
  const email = emailConfig ? readEmailConfig(emailConfig, emailProblems) : null;
  const rawEmail = email ? emailRaw(email) : null;
  if (email && rawEmail && emailConfig) checkEmail(rawEmail, email, emailConfig.file, emailProblems);
  const problems = [...byLine(listProblems), ...byLine(emailProblems)];
  if (problems.length > 0) throw new ConfigError(problems);

  const listName = basename(processList.file);
  const sections = [header(emailConfig ? [listName, basename(emailConfig.file)] : [listName])];
  for (const process of processes) sections.push(processTable(process, listName));
  if (email && rawEmail && emailConfig) sections.push(emailTable(rawEmail, email, basename(emailConfig.file)));
  return `${sections.join("\n\n")}\n`;
}

// Read the original's process_list.txt (and email_config.txt) and return config.toml text.
export function importOriginal(processListPath: string, emailConfigPath?: string): string {
  const processList = { file: processListPath, text: readFileSync(processListPath, "utf8") };
  const emailConfig = emailConfigPath === undefined ? undefined : { file: emailConfigPath, text: readFileSync(emailConfigPath, "utf8") };
  return convertOriginal(processList, emailConfig);
}
