// The configuration reference documents every key config.toml accepts, with the defaults the schema uses.
import { readFileSync } from "node:fs";

import { describe, expect, it } from "vitest";

import { DEFAULTS, RawConfigSchema } from "../../daemon/config/schema.js";
import { knownKeysAt } from "../../daemon/config/issues.js";

const DOC = readFileSync(new URL("../../docs/configuration.md", import.meta.url), "utf8");

// The reference table row of a key, e.g. "| `sustain` | ... |".
function rowOf(key: string): string | undefined {
  return DOC.split("\n").find((line) => line.startsWith(`| \`${key}\` |`));
}

// How a default is written in the docs: TOML literal syntax.
function literal(value: unknown): string {
  return typeof value === "string" ? JSON.stringify(value) : String(value);
}

describe("docs/configuration.md", () => {
  it("has a row for every key of every section", () => {
    const sections: [string, string[]][] = [
      ["settings", knownKeysAt(RawConfigSchema, ["settings"])],
      ["process", knownKeysAt(RawConfigSchema, ["process", "NAME"])],
      ["email", knownKeysAt(RawConfigSchema, ["email"])],
      ["anomaly", knownKeysAt(RawConfigSchema, ["anomaly"])],
      ["zombies", knownKeysAt(RawConfigSchema, ["zombies"])],
      ["notifications", knownKeysAt(RawConfigSchema, ["notifications"])],
      ["metrics", knownKeysAt(RawConfigSchema, ["metrics"])],
    ];
    for (const [section, keys] of sections) {
      // A heading of any level: "## `[email]`", "### `[anomaly]`".
      expect(DOC).toContain(section === "process" ? "## `[process.NAME]`" : `# \`[${section}]\``);
      for (const key of keys) expect(rowOf(key), `${section}.${key}`).toBeDefined();
    }
    for (const key of knownKeysAt(RawConfigSchema, ["process", "NAME", "cooldown"])) expect(rowOf(`cooldown.${key}`)).toBeDefined();
  });

  it("states the schema's defaults", () => {
    expect(rowOf("interval")).toContain(`\`${DEFAULTS.settings.interval.toFixed(1)}\``);
    const { cooldown, ...process } = DEFAULTS.process;
    for (const [key, value] of Object.entries(process)) expect(rowOf(key), key).toContain(`\`${literal(value)}\``);
    for (const [key, value] of Object.entries(cooldown)) expect(rowOf(`cooldown.${key}`), key).toContain(`\`${literal(value)}\``);
    expect(rowOf("rate_limit_minutes")).toContain(`\`${DEFAULTS.email.rate_limit_minutes}\``);
    expect(rowOf("enabled")).toContain(`\`${DEFAULTS.email.enabled}\``);
    expect(rowOf("listen")).toContain(`\`${literal(DEFAULTS.metrics.listen)}\``);
  });
});
