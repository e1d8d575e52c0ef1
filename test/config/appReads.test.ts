// How often a policy edit and a reload of config.toml read the apps' desktop files, through real
// files: the edited policy's app once, the other app policies not at all, and each app once per
// reload. The reads are counted through a spy on node:fs's openSync (desktop files are read with it).
import * as fs from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { PolicyStore } from "../../daemon/config/policyStore.js";
import { fsCallsDuring } from "../helpers/fsCalls.js";

const root = fs.mkdtempSync(join(tmpdir(), "selfheal-app-reads-"));
const apps = join(root, "share", "applications");
const saved = { XDG_DATA_HOME: process.env.XDG_DATA_HOME, XDG_DATA_DIRS: process.env.XDG_DATA_DIRS };

beforeAll(() => {
  process.env.XDG_DATA_HOME = join(root, "home-share");
  process.env.XDG_DATA_DIRS = join(root, "share");
  fs.mkdirSync(apps, { recursive: true });
  for (const id of ["One", "Two", "Three"]) {
    fs.writeFileSync(join(apps, `org.example.${id}.desktop`), `[Desktop Entry]\nType=Application\nName=${id}\nExec=/bin/sleep ${id.length}00\n`);
  }
});

afterAll(() => {
  for (const [key, value] of Object.entries(saved)) {
    if (value === undefined) delete process.env[key];
    else process.env[key] = value;
  }
  fs.rmSync(root, { recursive: true, force: true });
});

// The desktop files opened while `run` runs, by id.
async function readsDuring(run: () => unknown): Promise<Record<string, number>> {
  const reads: Record<string, number> = {};
  for (const [path] of await fsCallsDuring("openSync", run)) {
    const name = String(path);
    if (name.endsWith(".desktop")) reads[name.slice(apps.length + 1)] = (reads[name.slice(apps.length + 1)] ?? 0) + 1;
  }
  return reads;
}

describe("desktop files read", () => {
  it("per edit: the edited policy's app once, the others' not at all; per reload of config.toml: each app once", async () => {
    const paths = { config: join(root, "config.toml"), overrides: join(root, "overrides.json"), lastGood: join(root, "last-good.toml") };
    fs.writeFileSync(paths.config, '[process.three]\napp = "org.example.Three"\n');
    const store = new PolicyStore(paths);
    expect(store.config.policies.get("three")?.app?.name).toBe("Three");
    expect(await readsDuring(() => store.setPolicy("one", { set: { app: "org.example.One" }, unset: [] }))).toEqual({ "org.example.One.desktop": 1 });
    expect(await readsDuring(() => store.setPolicy("two", { set: { app: "org.example.Two" }, unset: [] }))).toEqual({ "org.example.Two.desktop": 1 });
    expect(await readsDuring(() => store.setPolicy("one", { set: { app: "org.example.One", autostart: true }, unset: [] }))).toEqual({ "org.example.One.desktop": 1 });
    expect(await readsDuring(() => store.removePolicy("two"))).toEqual({});
    fs.writeFileSync(paths.config, '[process.three]\napp = "org.example.Three"\nautostart = true\n');
    expect(await readsDuring(() => expect(store.reload().ok).toBe(true))).toEqual({ "org.example.One.desktop": 1, "org.example.Three.desktop": 1 });
  });
});
