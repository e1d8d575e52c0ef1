// The [notifications] section: its default, its one key, and its documentation.
import { readFileSync } from "node:fs";

import { describe, expect, it } from "vitest";

import { ConfigError, parseConfig } from "../../daemon/config/load.js";
import { knownKeysAt } from "../../daemon/config/issues.js";
import { DEFAULTS, RawConfigSchema } from "../../daemon/config/schema.js";

const DOC = readFileSync(new URL("../../docs/configuration.md", import.meta.url), "utf8");

describe("[notifications]", () => {
  it("turns desktop notifications on by default", () => {
    expect(DEFAULTS.notifications.desktop).toBe(true);
    expect(parseConfig("", "config.toml").notifications).toEqual({ desktop: true });
  });

  it("reads desktop = false", () => {
    expect(parseConfig("[notifications]\ndesktop = false\n", "config.toml").notifications).toEqual({ desktop: false });
  });

  it("rejects a desktop that is not a boolean, and unknown keys, naming them", () => {
    let error: unknown;
    try {
      parseConfig('[notifications]\ndesktop = "no"\nsound = true\n', "config.toml");
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const problems = (error as ConfigError).problems.map((problem) => [problem.line, problem.key]);
    expect(problems).toEqual([
      [2, "notifications.desktop"],
      [3, "notifications.sound"],
    ]);
  });

  it("is documented in docs/configuration.md, key by key, with its default", () => {
    expect(DOC).toContain("## `[notifications]`");
    for (const key of knownKeysAt(RawConfigSchema, ["notifications"])) {
      const row = DOC.split("\n").find((line) => line.startsWith(`| \`${key}\` |`));
      expect(row, key).toBeDefined();
      expect(row).toContain(`\`${String(DEFAULTS.notifications[key as keyof typeof DEFAULTS.notifications])}\``);
    }
  });
});
