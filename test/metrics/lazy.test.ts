// Without a [metrics] section nothing of the metrics is loaded: prom-client is
// never required (as nodemailer is loaded only for a first mail). A reload that
// adds the section loads it; one that removes it stops the writing.
import { createRequire } from "node:module";
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";

import { afterEach, describe, expect, it } from "vitest";

import { Daemon } from "../../daemon/daemon.js";
import { makeTestDir, waitFor } from "../helpers/daemon.js";

const require = createRequire(import.meta.url);
let daemon: Daemon | null = null;
let dir: string | null = null;

afterEach(async () => {
  await daemon?.stop();
  daemon = null;
  if (dir !== null) rmSync(dir, { recursive: true, force: true });
  dir = null;
});

// Whether prom-client's code has been loaded into this process.
function promClientLoaded(): boolean {
  return Object.keys(require.cache).some((path) => path.includes("/node_modules/prom-client/"));
}

describe("the metrics adapter", () => {
  it("is not loaded without [metrics], and is loaded by a reload that adds it", async () => {
    dir = makeTestDir("lazy");
    const configPath = join(dir, "config", "selfheal", "config.toml");
    mkdirSync(join(dir, "config", "selfheal"), { recursive: true });
    writeFileSync(configPath, "[settings]\ninterval = 0.2\n");
    const env = { PATH: process.env.PATH, HOME: dir, XDG_CONFIG_HOME: join(dir, "config"), XDG_STATE_HOME: join(dir, "state"), XDG_RUNTIME_DIR: join(dir, "run") };
    daemon = new Daemon({ configPath, env, keeper: false });
    await daemon.start();
    daemon.engine.tick();
    expect(daemon.metrics.loaded).toBe(false);
    expect(promClientLoaded()).toBe(false);

    const textfile = join(dir, "selfheal.prom");
    writeFileSync(configPath, `[settings]\ninterval = 0.2\n\n[metrics]\ntextfile = "${textfile}"\n`);
    daemon.reloadConfig();
    await waitFor(() => existsSync(textfile), 15_000, () => "the textfile was not written");
    expect(daemon.metrics.loaded).toBe(true);
    expect(promClientLoaded()).toBe(true);
    expect(readFileSync(textfile, "utf8")).toContain("# TYPE selfheal_up gauge");

    writeFileSync(configPath, "[settings]\ninterval = 0.2\n");
    daemon.reloadConfig();
    await waitFor(() => !daemon!.metrics.loaded, 15_000, () => "the metrics were not stopped");
  });
});
