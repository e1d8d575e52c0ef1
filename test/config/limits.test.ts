// Caps on what config.toml, overrides.json and SetPolicy may hold: each
// refusal names the file, line and key and says the limit; nothing oversized
// is read, parsed or kept.
import { mkdtempSync, rmSync, truncateSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

import { afterAll, describe, expect, it } from "vitest";

import { ConfigError, loadConfigFile, parseConfig, validatePolicyObject } from "../../daemon/config/load.js";
import { loadOverrides } from "../../daemon/config/overrides.js";
import { PolicyStore } from "../../daemon/config/policyStore.js";
import { SIZE_LIMITS } from "../../daemon/config/defaults.js";

const dir = mkdtempSync(join(tmpdir(), "selfheal-limits-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

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

// A policy of config.toml with `command` and `env` as given.
function policyToml(name: string, command: string[], env: Record<string, string> = {}): string {
  const envText = Object.entries(env)
    .map(([key, value]) => `${JSON.stringify(key)} = ${JSON.stringify(value)}`)
    .join(", ");
  return `[process.${name}]\ncommand = ${JSON.stringify(command)}\nenv = { ${envText} }\n`;
}

describe("config.toml's size", () => {
  it("a file over 1 MiB is refused from its size, before it is read (a sparse 4 GiB file)", () => {
    const path = join(dir, "huge.toml");
    writeFileSync(path, "");
    truncateSync(path, 4 * 1024 ** 3);
    const error = configError(() => loadConfigFile(path));
    expect(error.problems).toEqual([
      { file: path, line: null, column: null, key: "", message: "the file is 4294967296 bytes; at most 1048576 (1 MB) are read" },
    ]);
  });

  it("the daemon's store keeps the last good config when config.toml grows over 1 MiB", () => {
    const config = join(dir, "store.toml");
    writeFileSync(config, policyToml("small", ["sleep", "1"]));
    const store = new PolicyStore({ config, overrides: join(dir, "store-overrides.json"), lastGood: join(dir, "store-last-good.toml") });
    writeFileSync(config, `# ${"x".repeat(SIZE_LIMITS.config_bytes)}\n`);
    const result = store.reload();
    expect(result.ok).toBe(false);
    expect(!result.ok && result.error.message).toBe(`${config}: the file is ${SIZE_LIMITS.config_bytes + 3} bytes; at most 1048576 (1 MB) are read`);
    expect([...store.config.policies.keys()]).toEqual(["small"]);
  });
});

describe("how many policies, and how large", () => {
  it("at most 256 policies", () => {
    const text = Array.from({ length: SIZE_LIMITS.policies + 1 }, (_, i) => policyToml(`p${i}`, ["sleep", "1"])).join("");
    expect(problemsOf(text)).toEqual([[1, "process", "has 257 policies; at most 256 are accepted"]]);
    const fits = Array.from({ length: SIZE_LIMITS.policies }, (_, i) => policyToml(`p${i}`, ["sleep", "1"])).join("");
    expect(parseConfig(fits, "config.toml").policies.size).toBe(256);
  });

  it("one policy of more than 256 KiB as JSON", () => {
    // Within command's and env's caps, but over the policy's as a whole once JSON escapes the quotes.
    const quotes = (length: number) => '"'.repeat(length);
    const env = Object.fromEntries(Array.from({ length: 4 }, (_, i) => [`Q${i}`, quotes(15 * 1024)]));
    const problems = problemsOf(policyToml("big", ["sleep", quotes(120 * 1024)], env));
    expect(problems).toEqual([[1, "process.big", expect.stringMatching(/^is \d+ bytes as JSON; at most 262144 \(256 KB\) are accepted for one policy$/)]]);
  });

  it("SetPolicy cannot add a 257th policy, nor make overrides.json larger than 1 MiB", async () => {
    const config = join(dir, "full.toml");
    writeFileSync(config, Array.from({ length: SIZE_LIMITS.policies }, (_, i) => policyToml(`p${i}`, ["sleep", "1"])).join(""));
    const full = new PolicyStore({ config, overrides: join(dir, "full-overrides.json"), lastGood: join(dir, "full-last-good.toml") });
    await expect(full.setPolicy("one-more", { set: { command: ["x"] }, unset: [] })).rejects.toThrow(
      "SetPolicy: process.one-more: there are 256 policies already, the most accepted; remove one first",
    );
    await full.setPolicy("p0", { set: { command: ["y"] }, unset: [] });
    expect(full.config.policies.get("p0")?.command).toEqual(["y"]);

    const store = new PolicyStore({ config: join(dir, "none.toml"), overrides: join(dir, "big-overrides.json"), lastGood: join(dir, "big-last-good.toml") });
    const big = { set: { command: ["x", "y".repeat(100 * 1024)] }, unset: [] };
    for (let i = 0; i < 10; i++) await store.setPolicy(`big${i}`, big);
    await expect(store.setPolicy("big10", big)).rejects.toThrow(
      /^SetPolicy: process\.big10: the policies set over D-Bus would take \d+ bytes; at most 1048576 \(1 MB\) are kept, remove some first$/,
    );
    expect(store.config.policies.size).toBe(10);
    expect(Object.keys(loadOverrides(join(dir, "big-overrides.json")).overrides.policies)).toHaveLength(10);
  });
});

describe("command: the arguments' count and total size stay below the kernel's ARG_MAX", () => {
  it("at most 1024 arguments", () => {
    const problems = problemsOf(policyToml("many", ["sleep", ...Array.from({ length: 1024 }, () => "1")]));
    expect(problems).toEqual([[2, "process.many.command", "has 1025 arguments; at most 1024 are accepted"]]);
  });

  it("at most 128 KiB of arguments in all", () => {
    const problems = problemsOf(policyToml("long", ["sleep", ...Array.from({ length: 3 }, () => "x".repeat(50 * 1024))]));
    expect(problems).toEqual([[2, "process.long.command", "is 153609 bytes with each argument's terminating NUL; at most 131072 (128 KB) are accepted"]]);
  });
});

describe("env: POSIX names of bounded length, bounded in count and size", () => {
  it.each([
    ["a space", "MY VAR"],
    ["a newline", "A\nB"],
    ["a leading digit", "1ABC"],
    ["a dash", "MY-VAR"],
    ["a non-ASCII letter", "ÉTÉ"],
    ["an '='", "A=B"],
  ])("refuses a name with %s", (_what, name) => {
    const [problem] = problemsOf(policyToml("e", ["x"], { [name]: "v" }));
    expect(problem?.[2]).toBe(
      `invalid name ${JSON.stringify(name)}: an environment variable name is letters, digits and _, not starting with a digit (POSIX), at most 255 characters`,
    );
  });

  it("refuses a name of more than 255 characters", () => {
    const name = "A".repeat(256);
    expect(problemsOf(policyToml("e", ["x"], { [name]: "v" }))[0]?.[2]).toMatch(/^invalid name "AAAA.*at most 255 characters$/);
    expect(parseConfig(policyToml("e", ["x"], { ["A".repeat(255)]: "v", _x9: "v" }), "config.toml").policies.get("e")?.env).toHaveProperty("_x9", "v");
  });

  it("at most 256 variables and 64 KiB in all", () => {
    const many = Object.fromEntries(Array.from({ length: 257 }, (_, i) => [`V${i}`, "x"]));
    expect(problemsOf(policyToml("e", ["x"], many))).toEqual([[3, "process.e.env", "has 257 variables; at most 256 are accepted"]]);
    const large = Object.fromEntries(Array.from({ length: 3 }, (_, i) => [`V${i}`, "x".repeat(30 * 1024)]));
    expect(problemsOf(policyToml("e", ["x"], large))).toEqual([
      [3, "process.e.env", "is 92172 bytes as NAME=value entries; at most 65536 (64 KB) are accepted"],
    ]);
  });

  it("a key named __proto__ is refused with its line, not silently dropped (in env, as a policy name, anywhere)", () => {
    expect(problemsOf('[process.a]\ncommand = ["x"]\nenv = { __proto__ = "x", B = "y" }\n')).toEqual([
      [3, "process.a.env.__proto__", '"__proto__" cannot be used as a key'],
    ]);
    expect(problemsOf('[process.__proto__]\ncommand = ["x"]\n')).toEqual([[1, "process.__proto__", '"__proto__" cannot be used as a key']]);
    expect(problemsOf('[settings]\n"__proto__" = { interval = 5 }\n')).toEqual([[2, "settings.__proto__", '"__proto__" cannot be used as a key']]);
  });
});

describe("policies given as objects (SetPolicy, overrides.json)", () => {
  it("the same caps, naming the source", () => {
    const error = configError(() => validatePolicyObject("p", { command: ["x", ...Array.from({ length: 3 }, () => "y".repeat(50 * 1024))] }, "SetPolicy"));
    expect(error.message).toBe("SetPolicy: process.p.command: is 153605 bytes with each argument's terminating NUL; at most 131072 (128 KB) are accepted");
    const proto = JSON.parse('{"command":["x"],"env":{"__proto__":"x"}}') as Record<string, unknown>;
    expect(configError(() => validatePolicyObject("p", proto, "SetPolicy")).message).toBe('SetPolicy: process.p.env.__proto__: "__proto__" cannot be used as a key');
  });

  it("overrides.json over 1 MiB is not read", () => {
    const path = join(dir, "overrides.json");
    writeFileSync(path, " ".repeat(SIZE_LIMITS.config_bytes + 1));
    expect(loadOverrides(path).error?.message).toBe(`${path}: the file is 1048577 bytes; at most 1048576 (1 MB) are read, ignored`);
  });
});
