// Importing the original monitor's process_list.txt and email_config.txt: the
// generated config.toml parses back to the same policies, bad lines are
// reported by file:line.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

import { afterAll, describe, expect, it } from "vitest";

import { convertOriginal, importOriginal } from "../../daemon/config/import.js";
import { ConfigError, parseConfig } from "../../daemon/config/load.js";

const dir = mkdtempSync(join(tmpdir(), "selfheal-import-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const PROCESS_LIST = `# process_name cpu_limit memory_limit_MB
gedit 80 200

python3 /opt/tools/a.py 50 300
python3 /opt/tools/b.py 25.5 64   # trailing comment
`;

const EMAIL_CONFIG = `# Email Notification Configuration
# Set enabled=true to enable email notifications

enabled=true
smtp_server=smtp.example.org
smtp_port=465
sender_email=monitor@example.org
sender_password=app password with spaces
receiver_email=admin@example.org, ops@example.org
use_ssl=true
signature=bye
`;

// The problems a conversion reports, as "file:line: key: message" lines.
function importErrors(processList: string, emailConfig?: string): string[] {
  try {
    convertOriginal({ file: "process_list.txt", text: processList }, emailConfig === undefined ? undefined : { file: "email_config.txt", text: emailConfig });
  } catch (error) {
    if (error instanceof ConfigError) return error.message.split("\n");
    throw error;
  }
  throw new Error("expected a ConfigError");
}

describe("importOriginal", () => {
  it("writes TOML config.toml's reader accepts when a line holds control characters (DEL, vertical tab)", () => {
    const listPath = join(dir, "process_list.txt");
    writeFileSync(listPath, "/opt/x\u007fy/gedit\v80 200\n");
    const text = importOriginal(listPath);
    expect(text).toContain("# process_list.txt line 1: /opt/x\\u007Fy/gedit 80 200\n[process.gedit]\n");
    expect(parseConfig(text, "config.toml").policies.get("gedit")?.command).toEqual(["/opt/x\u007fy/gedit"]);
    // The file's name is in the comments too.
    const oddPath = join(dir, "list\u007f\n.txt");
    writeFileSync(oddPath, "gedit 80 200\n");
    expect(parseConfig(importOriginal(oddPath), "config.toml").policies.has("gedit")).toBe(true);
  });

  it("writes commented TOML that parseConfig reads back to the same policies", () => {
    const listPath = join(dir, "process_list.txt");
    const emailPath = join(dir, "email_config.txt");
    writeFileSync(listPath, PROCESS_LIST);
    writeFileSync(emailPath, EMAIL_CONFIG);
    const text = importOriginal(listPath, emailPath);
    expect(text).toMatch(/^# selfheal configuration, imported from process_list\.txt and email_config\.txt\./);
    expect(text).toContain("# process_list.txt line 2: gedit 80 200\n[process.gedit]\n");
    expect(text).toContain('# not imported: "signature" (email_config.txt line 11)');
    expect(text).not.toContain(dir);

    const config = parseConfig(text, "config.toml");
    expect(config.settings.intervalSec).toBe(1);
    expect([...config.policies.keys()]).toEqual(["gedit", "python3", "python3-2"]);
    expect(config.policies.get("gedit")).toMatchObject({ command: ["gedit"], match: "gedit", cpuLimit: 80, memoryLimitBytes: 200 * 1024 * 1024 });
    expect(config.policies.get("python3")).toMatchObject({ command: ["python3", "/opt/tools/a.py"], cpuLimit: 50 });
    const second = config.policies.get("python3-2");
    expect(second).toMatchObject({ command: ["python3", "/opt/tools/b.py"], cpuLimit: 25.5, memoryLimitBytes: 64 * 1024 * 1024 });
    const match = second?.match ?? "";
    expect(new RegExp(match.slice(1, -1)).test("python3 /opt/tools/b.py --flag")).toBe(true);
    expect(new RegExp(match.slice(1, -1)).test("python3 /opt/tools/a.py")).toBe(false);

    expect(config.email).toEqual({
      enabled: true,
      smtpHost: "smtp.example.org",
      smtpPort: 465,
      from: "monitor@example.org",
      to: ["admin@example.org", "ops@example.org"],
      username: "monitor@example.org",
      password: "app password with spaces",
      passwordCommand: null,
      implicitTls: true,
      starttls: null,
      rateLimitMinutes: 15,
    });
  });

  it("imports a process list alone, and an email config with the original's fallbacks", () => {
    const alone = parseConfig(convertOriginal({ file: "process_list.txt", text: "gedit 80 200\n" }), "config.toml");
    expect(alone.email).toBeNull();
    expect(alone.policies.size).toBe(1);

    const minimal = convertOriginal(
      { file: "process_list.txt", text: "" },
      { file: "email_config.txt", text: "sender_email=a@b.c\nreceiver_email=d@e.f\nuse_ssl=false\nsmtp_port=587\n" },
    );
    expect(parseConfig(minimal, "config.toml").email).toMatchObject({
      enabled: false,
      smtpHost: "smtp.gmail.com",
      smtpPort: 587,
      implicitTls: false,
      starttls: true,
      username: null,
      password: null,
      passwordCommand: null,
    });
  });

  it("reports every malformed line with file and line", () => {
    const list = ["# header", "gedit 80", "foo x 200", "bar 0 100", "ok 10 20", "baz 10 -5", "/usr/bin/@@ 1 1"].join("\n");
    const email = ["# header", "smtp_port=abc", "no equals sign", "use_ssl=maybe", "sender_email=a@b.c"].join("\n");
    expect(importErrors(list, email)).toEqual([
      'process_list.txt:2: expected "process_name cpu_limit memory_limit_MB", got "gedit 80"',
      'process_list.txt:3: cpu_limit: expected a number, got "x"',
      "process_list.txt:4: cpu_limit: expected a number greater than 0, got 0 (number)",
      "process_list.txt:6: memory_limit_MB: expected a number greater than 0, got -5 (number)",
      'process_list.txt:7: process_name: invalid name "@@": a process name is 1 to 64 letters, digits or . _ @ + -, starting with a letter or digit',
      'email_config.txt:2: smtp_port: expected a port number, got "abc"',
      'email_config.txt:3: expected "key=value", got "no equals sign"',
      'email_config.txt:4: use_ssl: expected true or false, got "maybe"',
      "email_config.txt: receiver_email: required key is missing (expected a string or an array)",
    ]);
  });

  it("rejects a name selfheal cannot use, at its line", () => {
    expect(importErrors("ok 1 1\n.hidden 1 1\n")).toEqual([
      expect.stringMatching(/^process_list\.txt:2: process_name: invalid name "\.hidden": a process name is/),
    ]);
  });
});
