import { describe, expect, it } from "vitest";
import {
  CommandSyntaxError,
  formFromPolicy,
  joinCommand,
  overrideNote,
  mergeForm,
  POLICY_DEFAULTS,
  policyEntries,
  policyProblems,
  splitCommand,
  unsetKeys,
} from "../../../extension/src/model/policy.js";
import { untranslated as t } from "../untranslated.js";

describe("splitCommand and joinCommand", () => {
  it("split words like a shell, without expanding anything", () => {
    expect(splitCommand("gedit --new-window")).toEqual(["gedit", "--new-window"]);
    expect(splitCommand(`sh -c 'sleep 1 && echo "$HOME"'`)).toEqual(["sh", "-c", `sleep 1 && echo "$HOME"`]);
    expect(splitCommand(`a "b \\"c\\"" d\\ e ''`)).toEqual(["a", `b "c"`, "d e", ""]);
    expect(splitCommand("   ")).toEqual([]);
  });

  it("refuse an unclosed quote with a message", () => {
    expect(() => splitCommand("sh -c 'oops")).toThrow(CommandSyntaxError);
    expect(() => splitCommand("sh -c 'oops")).toThrow("unclosed ' quote");
  });

  it("join so that splitting gives the same words back", () => {
    const argv = ["sh", "-c", "it's a test", "", "/usr/bin/x", "--opt=1"];
    expect(joinCommand(argv)).toBe(`sh -c 'it'\\''s a test' '' /usr/bin/x --opt=1`);
    expect(splitCommand(joinCommand(argv))).toEqual(argv);
  });
});

describe("formFromPolicy", () => {
  it("reads config.toml's keys", () => {
    const form = formFromPolicy("gedit", {
      command: ["gedit", "--new-window"],
      match: "gedit",
      cpu_limit: 80,
      memory_limit_mb: 200,
      restart: "always",
      on_violation: "notify",
      scope: "process",
      sustain: 3,
      memory_sustain: 0.3,
      autostart: true,
      cooldown: { max_restarts: 4, window: 30, pause: 90 },
      stop_timeout: 5,
    });
    expect(form).toEqual({
      name: "gedit",
      command: "gedit --new-window",
      match: "gedit",
      cpuLimit: 80,
      memoryLimitMb: 200,
      restart: "always",
      onViolation: "notify",
      scope: "process",
      sustain: 3,
      memorySustain: 0.3,
      autostart: true,
      cooldownMaxRestarts: 4,
      cooldownWindow: 30,
      cooldownPause: 90,
    });
  });

  it("fills missing keys with the daemon's defaults", () => {
    expect(formFromPolicy("x", {})).toEqual({ name: "x", command: "x", ...POLICY_DEFAULTS });
    // Memory's sustain is in seconds (0.05 by default), CPU's in scans.
    expect(POLICY_DEFAULTS).toMatchObject({ sustain: 2, memorySustain: 0.05 });
  });
});

describe("policyEntries", () => {
  it("gives SetPolicy typed entries, leaving out unset limits", () => {
    const entries = policyEntries({ ...POLICY_DEFAULTS, name: "x", command: "x --flag", cpuLimit: 50 });
    expect(entries.map((entry) => [entry.key, entry.signature])).toEqual([
      ["command", "as"],
      ["cpu_limit", "d"],
      ["restart", "s"],
      ["on_violation", "s"],
      ["scope", "s"],
      ["sustain", "u"],
      ["memory_sustain", "d"],
      ["autostart", "b"],
      ["cooldown", "a{sv}"],
    ]);
    expect(entries[0]?.value).toEqual(["x", "--flag"]);
    expect(entries.at(-1)?.value).toEqual([
      { key: "max_restarts", signature: "u", value: 5 },
      { key: "window", signature: "d", value: 60 },
      { key: "pause", signature: "d", value: 120 },
    ]);
  });
});

describe("what the editor sends beside the form, and its marker", () => {
  const policy = {
    command: ["web"],
    match: "web",
    memory_limit_mb: 120,
    restart: "always",
    overridden: ["cpu_limit", "memory_limit_mb"],
    unset: ["cpu_limit"],
    shadowed: { memory_limit_mb: 90, cpu_limit: 80 },
    origin: "config.toml+D-Bus",
  };

  it("leaves out what was left out, and a limit set to 0 over config.toml's", () => {
    const form = formFromPolicy("web", policy);
    expect(unsetKeys(policy, policyEntries(form))).toEqual(["cpu_limit"]);
    expect(unsetKeys(policy, policyEntries({ ...form, memoryLimitMb: 0 }))).toEqual(["cpu_limit", "memory_limit_mb"]);
    // A key left out and now given a value is set instead.
    expect(unsetKeys(policy, policyEntries({ ...form, cpuLimit: 50 }))).toEqual([]);
  });

  it("says which settings are set here over config.toml, or that the policy is not in config.toml", () => {
    expect(overrideNote(policy, t)).toBe("cpu_limit, memory_limit_mb set here over config.toml");
    expect(overrideNote({ ...policy, overridden: [], origin: "config.toml" }, t)).toBe("");
    expect(overrideNote({ command: ["x"], overridden: ["command"], origin: "D-Bus" }, t)).toBe("set here, not in config.toml");
  });
});

describe("policyProblems", () => {
  it("puts each line of the daemon's refusal with the key it names", () => {
    const message = [
      "D-Bus SetPolicy: process.gedit.match: is not a valid regular expression (missing ]); write /pattern/flags or a plain name",
      "D-Bus SetPolicy: process.gedit.cooldown.window: expected a number greater than 0, got -5 (number)",
      'D-Bus SetPolicy: process."my app".command[1]: expected a string',
      "D-Bus SetPolicy: process.gedit.leak.min_growth_mb: expected a number",
      "the policy name must not be empty",
    ].join("\n");
    const { byKey, other } = policyProblems(message);
    expect(Object.fromEntries(byKey)).toEqual({
      match: "is not a valid regular expression (missing ]); write /pattern/flags or a plain name",
      "cooldown.window": "expected a number greater than 0, got -5 (number)",
      command: "expected a string",
    });
    expect(other).toEqual(["D-Bus SetPolicy: process.gedit.leak.min_growth_mb: expected a number", "the policy name must not be empty"]);
  });

  it("joins two problems of one key", () => {
    const { byKey } = policyProblems("SetPolicy: process.a.sustain: too small\nSetPolicy: process.a.sustain: not whole");
    expect(byKey.get("sustain")).toBe("too small\nnot whole");
  });
});

describe("mergeForm", () => {
  const shown = { ...POLICY_DEFAULTS, name: "gedit", command: "gedit", cpuLimit: 10 };
  it("takes the daemon's new values where the user typed nothing, and keeps what they typed", () => {
    const current = { ...shown, command: "gedit --typed" };
    const incoming = { ...shown, command: "gedit --new", cpuLimit: 20, sustain: 4 };
    expect(mergeForm(current, shown, incoming)).toEqual({ ...incoming, command: "gedit --typed" });
  });

  it("gives the daemon's values when nothing was typed", () => {
    const incoming = { ...shown, memoryLimitMb: 300 };
    expect(mergeForm(shown, shown, incoming)).toEqual(incoming);
  });
});
