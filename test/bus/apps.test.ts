// Watching a desktop app over D-Bus and from the command line, with a real daemon on a private
// bus: SetPolicy with `app` takes the command and match from the app's desktop file (found in the
// daemon's XDG data dirs), the records carry the app's name and icon, a running copy is adopted at
// once, and an unknown or Flatpak app is InvalidPolicy. `selfheal watch-app` does the same and
// says what it did.
import { spawn } from "node:child_process";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { basename, join } from "node:path";

import dbus from "dbus-next";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { errorOf, makeTempDir, plain, processOf, selfheal, startScene, waitForProcess, type BusClient, type PrivateBus, type Scene } from "../helpers/bus.js";

const { Variant } = dbus;
const ERR = "io.github.SelfHeal1.Error.";
const TAG = Math.random().toString(16).slice(2, 6);
const share = makeTempDir("apps-share");
const applications = join(share, "applications");
let bus: PrivateBus;
let client: BusClient;
let close: Scene["close"];
let programs: Record<"sleeper" | "running" | "other" | "piped", string>;

// A desktop file for a program the test provides.
function desktopFile(id: string, lines: string[]): void {
  writeFileSync(join(applications, `${id}.desktop`), ["[Desktop Entry]", "Type=Application", ...lines, ""].join("\n"));
}

beforeAll(async () => {
  ({ bus, client, programs, close } = await startScene({
    prefix: "apps",
    programs: { sleeper: `sbapp-${TAG}`, running: `sbrun-${TAG}`, other: `sboth-${TAG}`, piped: `sbpip-${TAG}` },
    prepare: (_dir, made) => {
      mkdirSync(applications, { recursive: true });
      desktopFile("org.example.Sleeper", ["Name=Sleeper", "Icon=sleeper-icon", `Exec="${made.sleeper}" 600 %U`, `TryExec=${made.sleeper}`]);
      desktopFile("org.example.Running", ["Name=Running App", "Icon=/opt/running.png", `Exec=${made.running} 900 %F`]);
      desktopFile("org.example.Other", ["Name=Other App", "Icon=other-icon", `Exec=${made.other} 700`]);
      desktopFile("org.example.Piped", ["Name=Piped App", "Icon=piped-icon", `Exec=${made.piped} 800`]);
      desktopFile("org.example.Flat", ["Name=Flat", "Exec=/usr/bin/flatpak run --branch=stable org.example.Flat @@u %U @@", "X-Flatpak=org.example.Flat"]);
    },
    // No scan after the first within the file's run: every running copy is adopted by the edit's own look.
    config: "[settings]\ninterval = 3600\n",
    // The daemon's own data dirs: the test's applications only (and its empty XDG_DATA_HOME).
    daemon: { env: { XDG_DATA_DIRS: share } },
  }));
});

afterAll(async () => {
  await close?.();
  rmSync(share, { recursive: true, force: true });
});

const policies = async (): Promise<Record<string, Record<string, unknown>>> => plain((await client.call("GetPolicies"))[0]) as Record<string, Record<string, unknown>>;

describe("SetPolicy with app", () => {
  it("takes command and match from the desktop file, gives the app's name and icon in GetPolicies and ListProcesses, and starts it", async () => {
    await client.call("SetPolicy", "sa{sv}", ["sleeper", { app: new Variant("s", "org.example.Sleeper"), autostart: new Variant("b", true) }]);
    expect((await policies()).sleeper).toMatchObject({
      app: "org.example.Sleeper.desktop",
      command: [programs.sleeper, "600"],
      match: basename(programs.sleeper),
      app_name: "Sleeper",
      app_icon: "sleeper-icon",
      origin: "D-Bus",
    });
    const record = await waitForProcess(client, "sleeper", (r) => r.pid > 0);
    expect(record).toMatchObject({ state: "running", managed: true, app_id: "org.example.Sleeper.desktop", app_name: "Sleeper", app_icon: "sleeper-icon" });
    const [all] = await client.call("ListProcesses");
    expect((plain(all) as Array<Record<string, unknown>>).find((r) => r.name === "sleeper")).toMatchObject({ app_name: "Sleeper", app_icon: "sleeper-icon" });
  });

  it("adopts a copy of the app the user started, at once", async () => {
    const child = spawn(programs.running, ["900"], { detached: true, stdio: "ignore" });
    child.unref();
    await client.call("SetPolicy", "sa{sv}", ["running", { app: new Variant("s", "org.example.Running.desktop") }]);
    expect(await processOf(client, "running")).toMatchObject({ pid: child.pid, managed: false, app_name: "Running App", app_icon: "/opt/running.png" });
  });

  it("answers a read sent right behind SetPolicy (before its reply) with the edit applied: the running copy's PID, no scan waited for", async () => {
    const child = spawn(programs.piped, ["800"], { detached: true, stdio: "ignore" });
    child.unref();
    // Both calls go out at once, as the menu's "Watch an app…" sends them; the read is answered after the edit.
    const edit = client.call("SetPolicy", "sa{sv}", ["piped", { app: new Variant("s", "org.example.Piped") }]);
    const read = client.call("GetProcess", "s", ["piped"]);
    await edit;
    expect(plain((await read)[0])).toMatchObject({ pid: child.pid, managed: false, app_name: "Piped App" });
  });

  it("sends a record back as it came (app_name and app_icon are ignored), keeping the app", async () => {
    const [raw] = (await client.call("GetPolicies")) as [Record<string, Record<string, unknown>>];
    await client.call("SetPolicy", "sa{sv}", ["sleeper", raw.sleeper]);
    expect((await policies()).sleeper).toMatchObject({ app: "org.example.Sleeper.desktop", app_name: "Sleeper" });
  });

  it("refuses an unknown app and a Flatpak app with InvalidPolicy naming the key", async () => {
    const unknown = await errorOf(client.call("SetPolicy", "sa{sv}", ["nothing", { app: new Variant("s", "org.example.Nothing") }]));
    expect(unknown.type).toBe(`${ERR}InvalidPolicy`);
    expect(unknown.text).toMatch(/^SetPolicy: process\.nothing\.app: no application "org\.example\.Nothing\.desktop" is installed: no such desktop file in /);
    expect(unknown.text).toContain(applications);
    const flat = await errorOf(client.call("SetPolicy", "sa{sv}", ["flat", { app: new Variant("s", "org.example.Flat") }]));
    expect(flat.type).toBe(`${ERR}InvalidPolicy`);
    expect(flat.text).toContain("process.flat.app: \"org.example.Flat.desktop\" is a Flatpak app");
    expect(Object.keys(await policies())).not.toContain("flat");
  });
});

describe("selfheal watch-app", () => {
  it("creates the policy through SetPolicy, named after the id, and says what it made", async () => {
    const result = await selfheal(bus, ["watch-app", "org.example.Other"]);
    expect(result).toMatchObject({ code: 0, stderr: "" });
    expect(result.stdout).toBe(
      `watching Other App (org.example.Other.desktop) as org.example.Other: command ${programs.other} 700, match ${basename(programs.other)}; ` +
        `not running; "selfheal start org.example.Other" starts it\n`,
    );
    expect((await policies())["org.example.Other"]).toMatchObject({ app: "org.example.Other.desktop", command: [programs.other, "700"] });
  });

  it("says so when the app is watched already, under whatever name", async () => {
    const again = await selfheal(bus, ["watch-app", "org.example.Running.desktop"]);
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(/^Running App \(org\.example\.Running\.desktop\) is watched already, as running: .*; running as PID \d+ \(adopted\)\n$/);
    const json = JSON.parse((await selfheal(bus, ["watch-app", "org.example.Sleeper", "--json"])).stdout) as { name: string; created: boolean; process: { app_name: string } };
    expect(json).toMatchObject({ name: "sleeper", created: false, process: { app_name: "Sleeper" } });
  });

  it("shows the app in selfheal status NAME and policy get (its name a comment, not a key)", async () => {
    const status = await selfheal(bus, ["status", "sleeper"]);
    expect(status.code).toBe(0);
    expect(status.stdout).toContain("\napp:      Sleeper (org.example.Sleeper.desktop)\n");
    const got = await selfheal(bus, ["policy", "get", "sleeper"]);
    expect(got.stdout).toContain('# the app: Sleeper (icon sleeper-icon)\napp = "org.example.Sleeper.desktop"');
  });

  it("refuses a name taken by another policy, an unknown app (the daemon's reason) and a bad id", async () => {
    const taken = await selfheal(bus, ["watch-app", "org.example.Flat", "--name", "sleeper"]);
    expect(taken).toMatchObject({ code: 1, stdout: "" });
    expect(taken.stderr).toContain('a policy named "sleeper" exists already');
    const unknown = await selfheal(bus, ["watch-app", "org.example.Nothing"]);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/^selfheal: SetPolicy: process\."org\.example\.Nothing"\.app: no application "org\.example\.Nothing\.desktop" is installed.*\(InvalidPolicy\)\n$/s);
    const bad = await selfheal(bus, ["watch-app", "kde/foo.desktop"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("kde-foo.desktop");
  });
});
