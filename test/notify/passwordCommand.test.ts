// [email] password_command: real commands run without a shell (one that
// prints, fails, hangs, prints nothing, is missing, or leaves a child holding
// its output), and the password it prints used to log in to a real SMTP server.
import type { EmailSettings } from "../../daemon/config/policy.js";

import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

import { afterAll, describe, expect, it } from "vitest";

import { EmailNotifier } from "../../daemon/notify/email.js";
import { readPasswordFromCommand } from "../../daemon/notify/passwordCommand.js";
import { FakeClock } from "../helpers/fakes.js";
import { startSmtpServer } from "./smtpServer.js";
import { cleanupsAfterEach, crashed } from "./shared.js";

const dir = mkdtempSync(join(tmpdir(), "selfheal-pwcmd-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const cleanups = cleanupsAfterEach();

// The error message a promise rejects with (failing the test when it resolves).
async function failure(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    return (error as Error).message;
  }
  throw new Error("expected the command to fail");
}

// True while a process exists and is not a zombie.
function isRunning(pid: number): boolean {
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, "utf8"));
  } catch {
    return false;
  }
}

describe("readPasswordFromCommand", () => {
  it("takes the first line of what the command prints, without a shell", async () => {
    expect(await readPasswordFromCommand(["printf", "s3cret with spaces\nsecond line\n"])).toBe("s3cret with spaces");
    // No shell: $HOME and ; are the password's own characters.
    expect(await readPasswordFromCommand(["echo", "pa$HOME;ss"])).toBe("pa$HOME;ss");
  });

  it("says the exit status and the command's own complaint when it fails", async () => {
    const message = await failure(readPasswordFromCommand(["sh", "-c", "echo 'No such secret' >&2; exit 1"]));
    expect(message).toBe("password_command `sh -c \"echo 'No such secret' >&2; exit 1\"` failed with exit status 1: No such secret");
  });

  it("ends a command that hangs after the timeout, with everything it started", async () => {
    const pidFile = join(dir, "sleep.pid");
    // The shell's child keeps the output pipe open: the whole group has to end.
    const script = `sleep 300 & echo $! > ${pidFile}; wait`;
    const message = await failure(readPasswordFromCommand(["sh", "-c", script], { timeoutMs: 300 }));
    expect(message).toBe(`password_command \`sh -c "${script}"\` did not finish within 0.3 s (is the keyring locked?)`);
    const sleeper = Number(readFileSync(pidFile, "utf8"));
    await expect.poll(() => isRunning(sleeper), { timeout: 15_000 }).toBe(false);
  });

  it("refuses a command that prints nothing, and says how to store the password", async () => {
    const message = await failure(readPasswordFromCommand(["true"]));
    expect(message).toMatch(/^password_command `true` printed no password \(with secret-tool, store it first: `secret-tool store --label=selfheal service selfheal user LOGIN`\)$/);
    expect(await failure(readPasswordFromCommand(["printf", "\n"]))).toMatch(/printed no password/);
  });

  it("names a program that is not there", async () => {
    const message = await failure(readPasswordFromCommand(["selfheal-no-such-tool", "lookup"]));
    expect(message).toMatch(/^password_command `selfheal-no-such-tool lookup`: no program named selfheal-no-such-tool/);
  });
});

function settings(port: number, extra: Partial<EmailSettings>): EmailSettings {
  return {
    enabled: true,
    smtpHost: "127.0.0.1",
    smtpPort: port,
    from: "selfheal@example.org",
    to: ["me@example.org"],
    username: "me@example.org",
    password: null,
    passwordCommand: null,
    implicitTls: false,
    starttls: false,
    rateLimitMinutes: 0,
    ...extra,
  };
}

describe("password_command in the mailer", () => {
  it("logs in with what the command prints, and asks again after it failed", async () => {
    const smtp = await startSmtpServer(0, { user: "me@example.org", pass: "from the keyring" });
    cleanups.push(() => smtp.close());
    const secret = join(dir, "secret");
    writeFileSync(secret, "");
    const clock = new FakeClock(Date.now());
    const log: string[] = [];
    const mailer = new EmailNotifier(settings(smtp.port, { passwordCommand: ["cat", secret] }), {
      clock,
      host: "testhost",
      retryDelaysMs: [1_000],
      log: (line) => log.push(line),
    });
    cleanups.push(() => mailer.stop());

    // The keyring holds nothing yet: the mail waits for a retry, and the log says why.
    mailer.handle(crashed("gedit", 4242, clock.now()));
    await expect.poll(() => mailer.outbox.retrying, { timeout: 15_000 }).toBe(true);
    expect(log.join("\n")).toMatch(/not sent \(password_command `cat .*secret` printed no password .*\); trying again in 1 s/);
    expect(smtp.mails).toHaveLength(0);

    writeFileSync(secret, "from the keyring\n");
    clock.advance(1_000);
    const [mail] = await smtp.waitForMails(1);
    expect(mail!.subject).toBe("[Self-Healing Monitor] Process Crash: gedit");
    expect(mail!.user).toBe("me@example.org");
    expect(smtp.logins).toEqual([{ user: "me@example.org", pass: "from the keyring" }]);
  });
});
