// The client commands' formatting and argument parsing, without a daemon.
import { parseConfigTables } from "../../daemon/config/load.js";
import { describe, expect, it } from "vitest";
import { formatBytes, formatDuration, policyToml, table } from "../../daemon/cli/format.js";
import { applyAssignments, overrideOf, parseValue } from "../../daemon/cli/policyCommand.js";
import { parseSince } from "../../daemon/cli/eventsCommand.js";
import { UsageError } from "../../daemon/cli/clientContext.js";

describe("format", () => {
  it("sizes and durations", () => {
    expect(formatBytes(512)).toBe("512 B");
    expect(formatBytes(1536)).toBe("1.5 KB");
    expect(formatBytes(800 * 1024 * 1024)).toBe("800.0 MB");
    expect(formatDuration(4.25)).toBe("4.3s");
    expect(formatDuration(95)).toBe("1m35s");
    expect(formatDuration(7260)).toBe("2h01m");
    expect(formatDuration(90_000)).toBe("1d1h");
  });

  it("tables align columns to the widest cell", () => {
    expect(table(["A", "BB"], [["xyz", "1"], ["q", "22"]])).toBe("A    BB\nxyz  1\nq    22\n");
  });

  it("a policy as TOML reads back as the same values", () => {
    const policy = { command: ["gedit", "--new-window"], memory_limit_mb: 800, autostart: true, cooldown: { max_restarts: 5, pause: 120 }, env: { LANG: 'C "quoted"' } };
    const text = policyToml("my.app", policy);
    expect(text.split("\n")[0]).toBe('[process."my.app"]');
    expect(parseConfigTables(text, "policy get").tables).toEqual({ "my.app": policy });
  });

  it("a policy with control characters (DEL, tab, newline) reads back through config.toml's reader", () => {
    const policy = { command: ["/bin/x\u007f", "a\tb\nc"], match: "x\u007fy", env: { A: "\u007f\u0001", B: "é" } };
    const record = { ...policy, overridden: ["match"], shadowed: { match: "old\u007f" }, origin: "config.toml+D-Bus" };
    const { tables } = parseConfigTables(policyToml("del", record), "policy get");
    expect(tables).toEqual({ del: policy });
  });
});

describe("policy set KEY=VALUE", () => {
  it("values are TOML, else plain text", () => {
    expect(parseValue("800")).toBe(800);
    expect(parseValue("2.5")).toBe(2.5);
    expect(parseValue("true")).toBe(true);
    expect(parseValue('["gedit","--new"]')).toEqual(["gedit", "--new"]);
    expect(parseValue("always")).toBe("always");
    expect(parseValue("/gedit$/")).toBe("/gedit$/");
  });

  it("dotted keys reach into tables; an empty value leaves the key out (over config.toml too)", () => {
    const before = { set: { command: ["a"], cpu_limit: 50, cooldown: { max_restarts: 5 } }, unset: ["memory_limit_mb", "cooldown.pause"] };
    expect(applyAssignments(before, ["cooldown.pause=30", "cpu_limit=", "env.LANG=C", "memory_limit_mb=800"])).toEqual({
      set: { command: ["a"], cooldown: { max_restarts: 5, pause: 30 }, env: { LANG: "C" }, memory_limit_mb: 800 },
      unset: ["cpu_limit"],
    });
    expect(before.set.cpu_limit).toBe(50);
    expect(applyAssignments({ set: {}, unset: [] }, ["cooldown={ pause = 30 }"])).toEqual({ set: { cooldown: { pause: 30 } }, unset: [] });
    expect(() => applyAssignments({ set: {}, unset: [] }, ["novalue"])).toThrow(UsageError);
    expect(() => applyAssignments({ set: {}, unset: [] }, ["a.b.c=1"])).toThrow(/reaches too deep/);
  });

  it("a GetPolicies record's override: its overridden keys with their values, and the ones left out", () => {
    const record = {
      command: ["a"], memory_limit_mb: 120, restart: "always", cooldown: { max_restarts: 3, window: 60, pause: 45 },
      overridden: ["cooldown.pause", "cpu_limit", "memory_limit_mb"], unset: ["cpu_limit"], shadowed: { memory_limit_mb: 90 }, origin: "config.toml+D-Bus",
    };
    expect(overrideOf(record)).toEqual({ set: { memory_limit_mb: 120, cooldown: { pause: 45 } }, unset: ["cpu_limit"] });
    expect(overrideOf(undefined)).toEqual({ set: {}, unset: [] });
  });
});

describe("policyToml", () => {
  it("marks the keys set over D-Bus with config.toml's value, and the keys left out", () => {
    const record = {
      command: ["a"], memory_limit_mb: 120, restart: "always", cooldown: { max_restarts: 3, window: 60, pause: 45 },
      overridden: ["cooldown.pause", "cooldown.window", "cpu_limit", "memory_limit_mb", "restart"], unset: ["cpu_limit"],
      shadowed: { memory_limit_mb: 90, cpu_limit: 80, "cooldown.pause": 30 }, origin: "config.toml+D-Bus",
    };
    expect(policyToml("web", record)).toBe(
      [
        "[process.web]",
        'command = [ "a" ]',
        "memory_limit_mb = 120  # set over D-Bus; config.toml says 90",
        'restart = "always"  # set over D-Bus',
        "cooldown = { max_restarts = 3, window = 60, pause = 45 }  # pause, window set over D-Bus; config.toml says pause = 30",
        "# cpu_limit: left out over D-Bus; config.toml says 80",
        '# "selfheal policy reset web" goes back to config.toml alone',
        "",
      ].join("\n"),
    );
    expect(policyToml("new", { command: ["b"], overridden: ["command"], unset: [], shadowed: {}, origin: "D-Bus" })).toBe(
      "# set over D-Bus; config.toml has no [process.new]\n[process.new]\ncommand = [ \"b\" ]  # set over D-Bus\n",
    );
    expect(policyToml("plain", { command: ["c"] })).toBe('[process.plain]\ncommand = [ "c" ]\n');
  });
});

describe("events --since", () => {
  const now = Date.parse("2026-01-31T12:00:00Z");
  it("takes durations ago and ISO times, in microseconds", () => {
    expect(parseSince("10m", now)).toBe((now - 600_000) * 1000);
    expect(parseSince("2h", now)).toBe((now - 7_200_000) * 1000);
    expect(parseSince("2026-01-31T08:00:00Z", now)).toBe(Date.parse("2026-01-31T08:00:00Z") * 1000);
    expect(() => parseSince("yesterday-ish", now)).toThrow(/--since takes/);
  });
});
