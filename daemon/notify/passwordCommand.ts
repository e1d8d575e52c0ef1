// The mail password from a command ([email] password_command), e.g. the
// keyring's `secret-tool lookup service selfheal user me@example.org`: run
// without a shell, its first line of output is the password. A command that
// fails, hangs or prints nothing is an error that says which and what to try.
import { spawn } from "node:child_process";

/** How long the command may take: long enough for a keyring to answer, short enough that mail does not wait forever. */
export const PASSWORD_COMMAND_TIMEOUT_MS = 30_000;
/** More output than any password: a command printing more is not a password lookup. */
const MAX_OUTPUT_BYTES = 64 * 1024;
/** What a failure message quotes of the command's standard error. */
const STDERR_QUOTE_CHARS = 200;
const MS_PER_SECOND = 1000;

export interface PasswordCommandOptions {
  timeoutMs?: number;
}

// The command as a person would type it, for messages.
function shown(argv: readonly string[]): string {
  return argv.map((arg) => (/^[\w@%+=:,./-]+$/.test(arg) ? arg : JSON.stringify(arg))).join(" ");
}

// The first line of the command's standard error, shortened, or "".
function firstStderrLine(stderr: string): string {
  const line = stderr.split("\n").find((text) => text.trim() !== "")?.trim() ?? "";
  return line.length > STDERR_QUOTE_CHARS ? `${line.slice(0, STDERR_QUOTE_CHARS)}…` : line;
}

// Run argv and resolve with the first line of its output (without the line end); rejects with a message for people.
// The command runs in a process group of its own, so a timeout ends whatever it started too
// (a shell script's children would otherwise hold its output open and the answer would never come).
export function readPasswordFromCommand(argv: readonly string[], options: PasswordCommandOptions = {}): Promise<string> {
  const timeoutMs = options.timeoutMs ?? PASSWORD_COMMAND_TIMEOUT_MS;
  const [file, ...args] = argv;
  const prefix = `password_command \`${shown(argv)}\``;
  if (file === undefined) return Promise.reject(new Error("password_command is empty"));
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { stdio: ["ignore", "pipe", "pipe"], detached: true });
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    let outputBytes = 0;
    let settled = false;
    const endGroup = (): void => {
      try {
        if (child.pid !== undefined) process.kill(-child.pid, "SIGKILL");
      } catch {
        // Already gone.
      }
    };
    const finish = (error: Error | null, password = ""): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      child.stdout.destroy();
      child.stderr.destroy();
      if (error === null) resolve(password);
      else reject(error);
    };
    // SIGKILL to the whole group: a lookup stuck on a prompt may ignore SIGTERM.
    const timer = setTimeout(() => {
      endGroup();
      finish(new Error(`${prefix} did not finish within ${timeoutMs / MS_PER_SECOND} s (is the keyring locked?)`));
    }, timeoutMs);
    const collect = (into: Buffer[]) => (chunk: Buffer) => {
      outputBytes += chunk.length;
      if (outputBytes > MAX_OUTPUT_BYTES) {
        endGroup();
        finish(new Error(`${prefix} printed more than ${MAX_OUTPUT_BYTES} bytes; it should print only the password`));
        return;
      }
      into.push(chunk);
    };
    child.stdout.on("data", collect(stdout));
    child.stderr.on("data", collect(stderr));
    child.on("error", (error: NodeJS.ErrnoException) => {
      finish(
        error.code === "ENOENT"
          ? new Error(`${prefix}: no program named ${file} (is it installed? secret-tool comes in the libsecret-tools package)`)
          : new Error(`${prefix} could not run: ${error.message}`),
      );
    });
    // "close": the process has ended and all of its output is read. A grandchild that keeps the
    // pipes open holds this back until the timeout, which ends the whole group.
    child.on("close", (code, signal) => {
      const said = firstStderrLine(Buffer.concat(stderr).toString("utf8"));
      const tail = said === "" ? "" : `: ${said}`;
      if (signal !== null) return finish(new Error(`${prefix} was killed by ${signal}${tail}`));
      if (code !== 0) return finish(new Error(`${prefix} failed with exit status ${code}${tail}`));
      const password = Buffer.concat(stdout).toString("utf8").split("\n", 1)[0]!.replace(/\r$/, "");
      if (password === "") {
        return finish(new Error(`${prefix} printed no password (with secret-tool, store it first: \`secret-tool store --label=selfheal service selfheal user LOGIN\`)`));
      }
      finish(null, password);
    });
  });
}
