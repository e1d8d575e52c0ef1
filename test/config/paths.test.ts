// XDG paths: the variables when set to absolute paths, ~/.config and ~/.local/state otherwise.
import { describe, expect, it } from "vitest";

import { configDir, configPath, overridesPath, stateDir } from "../../daemon/config/paths.js";

describe("paths", () => {
  it("honours XDG_CONFIG_HOME and XDG_STATE_HOME", () => {
    const env = { HOME: "/home/u", XDG_CONFIG_HOME: "/cfg", XDG_STATE_HOME: "/st" };
    expect(configDir(env)).toBe("/cfg/selfheal");
    expect(configPath(env)).toBe("/cfg/selfheal/config.toml");
    expect(stateDir(env)).toBe("/st/selfheal");
    expect(overridesPath(env)).toBe("/st/selfheal/overrides.json");
  });

  it("falls back to ~/.config and ~/.local/state when unset, empty or relative", () => {
    for (const env of [{ HOME: "/home/u" }, { HOME: "/home/u", XDG_CONFIG_HOME: "", XDG_STATE_HOME: "" }, { HOME: "/home/u", XDG_CONFIG_HOME: "rel", XDG_STATE_HOME: "rel" }]) {
      expect(configPath(env)).toBe("/home/u/.config/selfheal/config.toml");
      expect(stateDir(env)).toBe("/home/u/.local/state/selfheal");
    }
  });
});
