// parseConfig, loadConfigFile, validatePolicyObject and policyToRaw: values, defaults, and
// error messages that name the file, the line and the key of every problem.
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

import { afterAll, describe, expect, it } from "vitest";

import { ConfigError, loadConfigFile, parseConfig, policyToRaw, validatePolicyObject } from "../../daemon/config/load.js";
import { DEFAULTS, parseMatchRegex } from "../../daemon/config/schema.js";

const MB = 1024 * 1024;

// The ConfigError a call throws (failing the test when it does not throw one).
function configError(run: () => unknown): ConfigError {
  try {
    run();
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error("expected a ConfigError");
}

// The problems parseConfig reports for `text`, as [line, key, message].
function problemsOf(text: string): [number | null, string, string][] {
  return configError(() => parseConfig(text, "config.toml")).problems.map((problem) => [problem.line, problem.key, problem.message]);
}

const FULL = `# every key, set
[settings]
interval = 0.5

[process.gedit]
command = ["/usr/bin/gedit", "--new-window"]
match = "/gedit --new/i"
cpu_limit = 80
memory_limit_mb = 200
scope = "process"
sustain = 3
memory_sustain = 0.3
on_violation = "notify"
restart = "always"
autostart = true
cooldown = { max_restarts = 4, window = 30, pause = 90 }
stop_timeout = 2.5
cwd = "/tmp"
env = { FOO = "bar", LANG = "C" }

[email]
smtp_host = "mail.example.org"
smtp_port = 587
from = "me@example.org"
to = ["me@example.org", "you@example.org"]
username = "me"
password = "secret"
starttls = true
rate_limit_minutes = 5
`;

describe("parseConfig: valid files", () => {
  it("reads every key of a full config", () => {
    const config = parseConfig(FULL, "config.toml");
    expect(config.settings).toEqual({ intervalSec: 0.5 });
    expect(config.policies.get("gedit")).toEqual({
      name: "gedit",
      command: ["/usr/bin/gedit", "--new-window"],
      match: "/gedit --new/i",
      cpuLimit: 80,
      memoryLimitBytes: 200 * MB,
      scope: "process",
      sustain: 3,
      memorySustainSec: 0.3,
      onViolation: "notify",
      restart: "always",
      autostart: true,
      cooldown: { maxRestarts: 4, windowSec: 30, pauseSec: 90 },
      stopTimeoutSec: 2.5,
      cwd: "/tmp",
      env: { FOO: "bar", LANG: "C" },
    });
    expect(config.email).toEqual({
      enabled: true,
      smtpHost: "mail.example.org",
      smtpPort: 587,
      from: "me@example.org",
      to: ["me@example.org", "you@example.org"],
      username: "me",
      password: "secret",
      passwordCommand: null,
      implicitTls: false,
      starttls: true,
      rateLimitMinutes: 5,
    });
  });

  it("fills defaults for everything left out", () => {
    const config = parseConfig("[process.gedit]\n", "config.toml");
    expect(config.settings.intervalSec).toBe(DEFAULTS.settings.interval);
    expect(config.email).toBeNull();
    expect(config.policies.get("gedit")).toEqual({
      name: "gedit",
      command: ["gedit"],
      match: "gedit",
      cpuLimit: null,
      memoryLimitBytes: null,
      scope: "tree",
      sustain: 2,
      memorySustainSec: 0.05,
      onViolation: "restart",
      restart: "on-failure",
      autostart: false,
      cooldown: { maxRestarts: 5, windowSec: 60, pauseSec: 120 },
      stopTimeoutSec: 5,
      cwd: null,
      env: {},
    });
  });

  it("treats an empty file as no policies and default settings", () => {
    const config = parseConfig("# nothing yet\n", "config.toml");
    expect(config.policies.size).toBe(0);
    expect(config.settings.intervalSec).toBe(1);
  });

  it("derives match from the command's basename and keeps file order", () => {
    const config = parseConfig('[process.b]\ncommand = ["/opt/x/bin/editor", "-f"]\n[process.a]\n', "config.toml");
    expect([...config.policies.keys()]).toEqual(["b", "a"]);
    expect(config.policies.get("b")?.match).toBe("editor");
  });

  it("accepts dotted keys, sub-tables, partial cooldowns and quoted names", () => {
    const text = '[process."my.app@2"]\ncooldown.pause = 10\n[process.x.cooldown]\nmax_restarts = 9\n';
    const config = parseConfig(text, "config.toml");
    expect(config.policies.get("my.app@2")?.cooldown).toEqual({ maxRestarts: 5, windowSec: 60, pauseSec: 10 });
    expect(config.policies.get("x")?.cooldown.maxRestarts).toBe(9);
  });

  it("expands ~ in cwd and takes a single recipient as a string", () => {
    const config = parseConfig(
      '[process.a]\ncwd = "~/work"\n[email]\nsmtp_host = "h"\nsmtp_port = 465\nfrom = "a@b"\nto = "c@d"\n',
      "config.toml",
    );
    expect(config.policies.get("a")?.cwd).toMatch(/\/work$/);
    expect(config.policies.get("a")?.cwd).not.toContain("~");
    expect(config.email?.to).toEqual(["c@d"]);
    expect(config.email?.implicitTls).toBe(true);
  });
});

describe("parseConfig: errors name file, line and key", () => {
  it("formats the message as file:line: key: problem", () => {
    const text = "[process.gedit]\ncommand = [\"gedit\"]\nmemory_limit_mb = -5\n";
    const error = configError(() => parseConfig(text, "config.toml"));
    expect(error.message).toBe("config.toml:3: process.gedit.memory_limit_mb: expected a number greater than 0, got -5 (number)");
    expect(error.problems).toEqual([
      {
        file: "config.toml",
        line: 3,
        column: 1,
        key: "process.gedit.memory_limit_mb",
        message: "expected a number greater than 0, got -5 (number)",
      },
    ]);
  });

  it("reports every bad value, one line each, in line order", () => {
    const text = [
      "[settings]", // 1
      "interval = 0.01", // 2
      "", // 3
      "[process.gedit]", // 4
      'command = ["gedit", ""]', // 5
      "cpu_limit = 0", // 6
      "memory_limit_mb = 99999999999", // 7
      'scope = "trees"', // 8
      "sustain = 2.5", // 9
      'on_violation = "explode"', // 10
      'restart = "sometimes"', // 11
      'autostart = "yes"', // 12
      "stop_timeout = 601", // 13
      'cwd = "relative/dir"', // 14
      "env = { FOO = 1 }", // 15
      "", // 16
    ].join("\n");
    const error = configError(() => parseConfig(text, "config.toml"));
    expect(error.message.split("\n")).toHaveLength(12);
    expect(problemsOf(text)).toEqual([
      [2, "settings.interval", "expected a number greater than or equal to 0.05, got 0.01 (number)"],
      [5, "process.gedit.command[1]", 'must not be empty, got "" (string)'],
      [6, "process.gedit.cpu_limit", "expected a number greater than 0, got 0 (number)"],
      [7, "process.gedit.memory_limit_mb", "expected a number less than or equal to 16777216, got 99999999999 (number)"],
      [8, "process.gedit.scope", 'expected one of "tree", "process", got "trees" (string)'],
      [9, "process.gedit.sustain", "expected an integer, got 2.5 (number)"],
      [10, "process.gedit.on_violation", 'expected one of "restart", "kill", "notify", got "explode" (string)'],
      [11, "process.gedit.restart", 'expected one of "on-failure", "always", "never", got "sometimes" (string)'],
      [12, "process.gedit.autostart", 'expected true or false, got "yes" (string)'],
      [13, "process.gedit.stop_timeout", "expected a number less than or equal to 600, got 601 (number)"],
      [14, "process.gedit.cwd", 'expected an absolute path (or one starting with ~/), got "relative/dir" (string)'],
      [15, "process.gedit.env.FOO", "expected a string, got 1 (number)"],
    ]);
  });

  it("finds keys inside inline tables, dotted keys and multi-line arrays", () => {
    const text = [
      "[process.a]", // 1
      "cooldown = { max_restarts = 0, window = 60 }", // 2
      "", // 3
      "[process.b]", // 4
      "cooldown.window = -1", // 5
      "command = [", // 6
      '  "ok",', // 7
      "  3,", // 8
      "]", // 9
    ].join("\n");
    expect(problemsOf(text)).toEqual([
      [2, "process.a.cooldown.max_restarts", "expected a number greater than or equal to 1, got 0 (number)"],
      [5, "process.b.cooldown.window", "expected a number greater than 0, got -1 (number)"],
      [8, "process.b.command[1]", "expected a string, got 3 (number)"],
    ]);
  });

  it("puts a missing required key at its table's header line", () => {
    const text = '[settings]\ninterval = 1\n\n[email]\nsmtp_port = 25\nto = "a@b"\n';
    expect(problemsOf(text)).toEqual([
      [4, "email.smtp_host", "required key is missing (expected a string)"],
      [4, "email.from", "required key is missing (expected a string)"],
    ]);
  });

  it("rejects unknown keys with a did-you-mean hint", () => {
    const text = "[settings]\nintervall = 2\n[process.gedit]\ncpu_limt = 50\nmemory_limit = 100\nbogus = 1\n[process.x]\ncooldown = { windw = 5 }\n";
    expect(problemsOf(text)).toEqual([
      [2, "settings.intervall", 'unknown key; did you mean "interval"?'],
      [4, "process.gedit.cpu_limt", 'unknown key; did you mean "cpu_limit"?'],
      [5, "process.gedit.memory_limit", 'unknown key; did you mean "memory_limit_mb"?'],
      [6, "process.gedit.bogus", "unknown key"],
      [8, "process.x.cooldown.windw", 'unknown key; did you mean "window"?'],
    ]);
  });

  it("rejects unknown sections and keys written outside their section", () => {
    const text = "interval = 1\n[proces.gedit]\n[zombie]\n";
    expect(problemsOf(text)).toEqual([
      [1, "interval", "unknown section or key; it belongs in the [settings] section"],
      [2, "proces", 'unknown section or key; did you mean "process"?'],
      [3, "zombie", 'unknown section or key; did you mean "zombies"?'],
    ]);
  });

  it("rejects a match that is a broken regular expression, naming the key", () => {
    const [problem] = problemsOf('[process.a]\n\nmatch = "/foo(/"\n');
    expect(problem?.[0]).toBe(3);
    expect(problem?.[1]).toBe("process.a.match");
    expect(problem?.[2]).toMatch(/^is not a valid regular expression \(.*group.*\); write \/pattern\/flags or a plain name, got "\/foo\(\/" \(string\)$/);
    expect(problemsOf('[process.a]\nmatch = "/x/q"\n')[0]?.[2]).toMatch(/flags/);
    expect(problemsOf('[process.a]\nmatch = "/usr/bin/gedit-2"\n')[0]?.[2]).toMatch(/flags/);
    expect(problemsOf('[process.a]\nmatch = "//"\n')[0]?.[2]).toMatch(/empty/);
  });

  it("rejects a match that cannot be matched in linear time, or that would match every command line", () => {
    expect(problemsOf('[process.a]\nmatch = "/(a)\\\\1/"\n')).toEqual([
      [2, "process.a.match", expect.stringMatching(/^uses a backreference, which cannot be matched in linear time; .*got "\/\(a\)\\\\1\/" \(string\)$/)],
    ]);
    expect(problemsOf('[process.a]\ncommand = ["x"]\nmatch = "/x(?=y)/"\n')[0]?.slice(0, 2)).toEqual([3, "process.a.match"]);
    expect(problemsOf('[process.a]\nmatch = "/.*/"\n')).toEqual([
      [2, "process.a.match", expect.stringMatching(/would match every command line/)],
    ]);
    expect(problemsOf('[process.a]\nmatch = "/./s"\n')[0]?.[2]).toMatch(/would match every command line/);
    expect(parseConfig('[process.a]\nmatch = "/(a+)+$/"\n', "config.toml").policies.get("a")?.match).toBe("/(a+)+$/");
  });

  it("rejects bad process names", () => {
    expect(problemsOf('[process."bad name"]\n[process."-x"]\n')).toEqual([
      [1, 'process."bad name"', expect.stringMatching(/^invalid name "bad name": a process name is 1 to 64/)],
      [2, "process.-x", expect.stringMatching(/^invalid name "-x"/)],
    ]);
  });

  it("rejects a section of the wrong type", () => {
    expect(problemsOf('settings = 3\n[[process]]\nname = "x"\n')).toEqual([
      [1, "settings", "expected a table, got 3 (number)"],
      [2, "process", 'expected a table, got [{"name":"x"}] (array)'],
    ]);
  });

  it("checks the email section", () => {
    const text = '[email]\nsmtp_host = "h"\nsmtp_port = 70000\nfrom = "nobody"\nto = [1]\n';
    expect(problemsOf(text)).toEqual([
      [3, "email.smtp_port", "expected a number less than or equal to 65535, got 70000 (number)"],
      [4, "email.from", 'expected an email address, got "nobody" (string)'],
      [5, "email.to[0]", "expected a string, got 1 (number)"],
    ]);
    const conflict = '[email]\nsmtp_host = "h"\nsmtp_port = 25\nfrom = "a@b"\nto = "c@d"\nstarttls = true\nimplicit_tls = true\n';
    expect(problemsOf(conflict)).toEqual([[6, "email.starttls", "cannot be true together with implicit_tls = true, got true (boolean)"]]);
    const base = '[email]\nsmtp_host = "h"\nsmtp_port = 25\nfrom = "a@b"\nto = "c@d"\n';
    expect(problemsOf(`${base}password = "p"\nusername = "u"\npassword_command = ["secret-tool", "lookup"]\n`)).toEqual([
      [8, "email.password_command", 'cannot be given together with password; keep one of the two, got ["secret-tool","lookup"] (array)'],
    ]);
    expect(problemsOf(`${base}password_command = ["secret-tool", "lookup"]\n`)).toEqual([
      [6, "email.password_command", 'needs username (the SMTP login the password is for), got ["secret-tool","lookup"] (array)'],
    ]);
    expect(problemsOf(`${base}username = "u"\npassword_command = []\n`)[0]?.[1]).toBe("email.password_command");
    const command = parseConfig(`${base}username = "u"\npassword_command = ["secret-tool", "lookup", "service", "selfheal"]\n`, "config.toml");
    expect(command.email?.passwordCommand).toEqual(["secret-tool", "lookup", "service", "selfheal"]);
    expect(command.email?.password).toBeNull();
  });

  it("gives TOML syntax errors with file and line", () => {
    const error = configError(() => parseConfig('[settings]\ninterval = 1\n\n[process.a]\ncommand = ["a"\n', "config.toml"));
    expect(error.problems).toHaveLength(1);
    expect(error.problems[0]?.key).toBe("");
    expect(error.message).toMatch(/^config\.toml:(5|6): TOML syntax error: /);

    expect(configError(() => parseConfig("a = 1\n\nb = \nc = 2\n", "c.toml")).message).toMatch(/^c\.toml:3: TOML syntax error: /);
    expect(configError(() => parseConfig("[a]\nx = 1\n[a]\n", "c.toml")).message).toMatch(/^c\.toml:3: TOML syntax error: .*multiple times/);
    expect(configError(() => parseConfig("x = 1 2\n", "c.toml")).problems[0]?.line).toBe(1);
    // A value missing at the end of a line (a comment after the =) is told at that line, not at the next key.
    expect(configError(() => parseConfig("a = 1\nb = # nothing\n\nc = 2\n", "c.toml")).message).toMatch(/^c\.toml:2: TOML syntax error: /);
  });

  it("rejects values TOML allows but a policy cannot use", () => {
    expect(problemsOf("[process.a]\ncpu_limit = inf\nmemory_limit_mb = nan\nstop_timeout = 1979-05-27\n")).toEqual([
      [2, "process.a.cpu_limit", "expected a number, got Infinity (number)"],
      [3, "process.a.memory_limit_mb", "expected a number, got NaN (number)"],
      [4, "process.a.stop_timeout", "expected a number, got 1979-05-27T00:00:00.000Z (date)"],
    ]);
    expect(problemsOf('[process.a]\ncommand = ["a\\u0000b"]\n')[0]?.[2]).toMatch(/^must not contain a NUL character/);
  });
});

describe("loadConfigFile", () => {
  const dir = mkdtempSync(join(tmpdir(), "selfheal-load-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("treats a missing file as an empty config", () => {
    const config = loadConfigFile(join(dir, "absent.toml"));
    expect(config.policies.size).toBe(0);
    expect(config.settings.intervalSec).toBe(1);
    expect(config.email).toBeNull();
  });

  it("names the file's path in errors", () => {
    const path = join(dir, "config.toml");
    writeFileSync(path, "[process.a]\nsustain = 0\n");
    expect(configError(() => loadConfigFile(path)).message).toBe(
      `${path}:2: process.a.sustain: expected a number greater than or equal to 1, got 0 (number)`,
    );
  });

  const MAIL = '[email]\nsmtp_host = "h"\nsmtp_port = 25\nfrom = "a@b"\nto = "c@d"\nusername = "u"\n';

  it("refuses a plain password in a file the group or others can read, naming chmod 600 and password_command", () => {
    const path = join(dir, "shared.toml");
    writeFileSync(path, `${MAIL}password = "hunter2"\n`);
    for (const mode of [0o644, 0o640, 0o604]) {
      chmodSync(path, mode);
      const error = configError(() => loadConfigFile(path));
      expect(error.problems).toHaveLength(1);
      expect(error.message).toBe(
        `${path}:7: email.password: the file holds the mail password in plain text and other users can read it (mode ${mode.toString(8)}): ` +
          `make it private with \`chmod 600 ${path}\`, or keep the password in the keyring and name it with password_command ` +
          `(e.g. password_command = ["secret-tool", "lookup", "service", "selfheal", "user", "LOGIN"])`,
      );
      expect(error.message).not.toContain("hunter2");
    }
    chmodSync(path, 0o600);
    expect(loadConfigFile(path).email?.password).toBe("hunter2");
    chmodSync(path, 0o400);
    expect(loadConfigFile(path).email?.password).toBe("hunter2");
  });

  it("accepts a readable file with no plain password (password_command, or no [email])", () => {
    const path = join(dir, "keyring.toml");
    writeFileSync(path, `${MAIL}password_command = ["secret-tool", "lookup", "service", "selfheal", "user", "u"]\n`);
    chmodSync(path, 0o644);
    expect(loadConfigFile(path).email?.passwordCommand).toEqual(["secret-tool", "lookup", "service", "selfheal", "user", "u"]);
    writeFileSync(path, "[process.a]\n");
    expect(loadConfigFile(path).policies.has("a")).toBe(true);
  });
});

describe("validatePolicyObject and policyToRaw", () => {
  it("validates a plain object with config.toml's keys, naming the source", () => {
    const error = configError(() => validatePolicyObject("gedit", { memory_limit_mb: -5, cpu_lmit: 3 }, "SetPolicy"));
    expect(error.message.split("\n")).toEqual([
      "SetPolicy: process.gedit.memory_limit_mb: expected a number greater than 0, got -5 (number)",
      'SetPolicy: process.gedit.cpu_lmit: unknown key; did you mean "cpu_limit"?',
    ]);
    expect(error.problems[0]?.line).toBeNull();
  });

  it("rejects a bad name and accepts D-Bus bigints", () => {
    expect(configError(() => validatePolicyObject("no/slash", {}, "SetPolicy")).message).toMatch(/^SetPolicy: process."no\/slash": invalid name/);
    const policy = validatePolicyObject("a", { sustain: 3n, cooldown: { max_restarts: 2n } }, "SetPolicy");
    expect(policy.sustain).toBe(3);
    expect(policy.cooldown.maxRestarts).toBe(2);
  });

  it("round-trips through policyToRaw", () => {
    const policy = parseConfig(FULL, "config.toml").policies.get("gedit");
    if (!policy) throw new Error("no policy");
    const raw = policyToRaw(policy);
    expect(raw).toEqual({
      command: ["/usr/bin/gedit", "--new-window"],
      match: "/gedit --new/i",
      cpu_limit: 80,
      memory_limit_mb: 200,
      scope: "process",
      sustain: 3,
      memory_sustain: 0.3,
      on_violation: "notify",
      restart: "always",
      autostart: true,
      cooldown: { max_restarts: 4, window: 30, pause: 90 },
      stop_timeout: 2.5,
      cwd: "/tmp",
      env: { FOO: "bar", LANG: "C" },
    });
    expect(validatePolicyObject("gedit", raw, "test")).toEqual(policy);
    const bare = validatePolicyObject("b", {}, "test");
    expect(policyToRaw(bare)).not.toHaveProperty("cpu_limit");
    expect(policyToRaw(bare)).not.toHaveProperty("cwd");
    expect(validatePolicyObject("b", policyToRaw(bare), "test")).toEqual(bare);
  });
});

describe("parseMatchRegex", () => {
  it("compiles /pattern/flags and leaves plain names alone", () => {
    expect(parseMatchRegex("gedit")).toBeNull();
    expect(parseMatchRegex("/a.b/i")?.flags).toBe("i");
    expect(parseMatchRegex("/a.b/gimsuy")?.flags).toBe("ims");
    expect(parseMatchRegex("/usr/bin/x/")?.source).toBe("usr/bin/x");
    expect(parseMatchRegex("/usr/bin/x/")?.test("/usr/bin/x --help")).toBe(true);
    expect(parseMatchRegex("/")).toBeNull();
    expect(() => parseMatchRegex("/a/bad-flags")).toThrow();
  });
});
