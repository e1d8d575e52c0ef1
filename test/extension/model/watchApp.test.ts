// "Watch an app…": the running apps still to watch, and the policy name, which is the one
// `selfheal watch-app` gives (the extension and the daemon's CLI derive it alike).
import { describe, expect, it } from "vitest";

import { freePolicyName, policyNameForApp, unwatchedApps } from "../../../extension/src/model/watchApp.js";
import { policyNameForApp as cliPolicyName } from "../../../daemon/apps/policyName.js";
import { parseProcess } from "../../../extension/src/model/records.js";
import { processRow } from "../../../extension/src/model/processes.js";
import { untranslated as t } from "../untranslated.js";

describe("watch an app", () => {
  it("derives the policy name as selfheal watch-app does", () => {
    for (const id of ["org.gnome.TextEditor.desktop", "gtk3-demo.desktop", "kde-dolphin.desktop", "-odd id!.desktop", "x".repeat(80), ".desktop"]) {
      expect(policyNameForApp(id), id).toBe(cliPolicyName(id));
    }
    expect(policyNameForApp("org.gnome.TextEditor.desktop")).toBe("org.gnome.TextEditor");
  });

  it("offers the running apps no policy watches, by name, without window-only ones (no desktop file)", () => {
    const records = [parseProcess({ name: "editor", app_id: "org.gnome.TextEditor.desktop" }), parseProcess({ name: "plain" })];
    const running = [
      { id: "org.gnome.TextEditor.desktop", name: "Text Editor" },
      { id: "org.gnome.Calculator.desktop", name: "Calculator" },
      { id: "window:12", name: "Some Window" },
      { id: "gtk3-demo.desktop", name: "GTK+ Demo" },
      { id: "gtk3-demo.desktop", name: "GTK+ Demo" },
    ];
    expect(unwatchedApps(running, records).map((app) => app.id)).toEqual(["org.gnome.Calculator.desktop", "gtk3-demo.desktop"]);
  });

  it("picks a name no policy has", () => {
    expect(freePolicyName("gtk3-demo.desktop", new Set(["other"]))).toBe("gtk3-demo");
    expect(freePolicyName("gtk3-demo.desktop", new Set(["gtk3-demo", "gtk3-demo-2"]))).toBe("gtk3-demo-3");
    expect(freePolicyName(`${"x".repeat(70)}.desktop`, new Set(["x".repeat(64)]))).toBe(`${"x".repeat(62)}-2`);
  });

  it("titles an app policy's row with the app's name and icon, any other with its name", () => {
    const app = processRow(parseProcess({ name: "editor", pid: 1, state: "running", app_id: "org.gnome.TextEditor.desktop", app_name: "Text Editor", app_icon: "org.gnome.TextEditor" }), t);
    expect(app).toMatchObject({ key: "editor", name: "editor", title: "Text Editor", icon: "org.gnome.TextEditor" });
    // An older daemon's record (no app keys) and a plain command's.
    expect(processRow(parseProcess({ name: "gedit", pid: 1 }), t)).toMatchObject({ title: "gedit", icon: "" });
  });
});
