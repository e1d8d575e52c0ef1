// The extension end to end in real shells: the GNOME 45+ build in GNOME Shell 48 (a Debian 13 root
// file system, built once by scripts/gnome-shell-48-root.sh), then the GNOME 42–44 build in this
// machine's GNOME Shell 43; one after the other, so that their figures are not taken side by side.
// The checks are the same for both (endToEnd.ts); the German one runs in GNOME Shell 48.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ShellTarget } from "./endToEnd.js";
import { describeEndToEnd, startShell, UUID } from "./endToEnd.js";
import type { ShellHarness } from "./harness.js";

const GNOME48: ShellTarget = { title: "GNOME Shell 48, GNOME 45+ build", shell: "gnome48", build: "gnome45", screenshots: "gnome48", activeState: "ACTIVE" };
const GNOME43: ShellTarget = { title: "GNOME Shell 43, GNOME 42–44 build", shell: "host", build: "gnome42", screenshots: "gnome43", activeState: "ENABLED" };

describeEndToEnd(GNOME48);

describe(`${GNOME48.title}, in German (LANG=de_DE.UTF-8)`, () => {
  let shell: ShellHarness;

  beforeAll(async () => {
    shell = await startShell(GNOME48, "de_DE.UTF-8");
  }, 15 * 60_000);

  afterAll(async () => {
    await shell?.stop();
  });

  it("shows the menu's tabs and the daemon-down view in German", async () => {
    expect(await shell.eval("selfhealProbe.tabs()")).toEqual(["Prozesse", "Anomalien", "Zombies", "Abkühlung"]);
    expect(await shell.eval("selfhealProbe.state().summary")).toBe("selfheal läuft nicht");
  });

  it("shows the preferences' pages in German", async () => {
    const prefs = await shell.openPreferences(UUID);
    try {
      expect(await prefs.eval("prefs.pageTitles().filter((title) => title !== '')")).toEqual(["Programme", "Oberleiste"]);
    } finally {
      await prefs.close();
    }
    expect(shell.jsErrors()).toEqual([]);
  });
});

describeEndToEnd(GNOME43);
