// The cooldown state file: round trip, and what a damaged file does.
import { afterEach, describe, expect, it } from "vitest";
import { readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { FileCooldownStore } from "../../daemon/state/cooldownStore.js";
import { makeTestDir, waitFor } from "../helpers/daemon.js";

let dir = "";
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe("FileCooldownStore", () => {
  it("saves and loads the state, leaving no temporary files", () => {
    dir = makeTestDir("cooldown-store");
    const store = new FileCooldownStore(join(dir, "cooldown.json"));
    store.saveSync({ app: { restarts: [1, 2, 3], untilMs: 99 } });
    expect(new FileCooldownStore(join(dir, "cooldown.json")).load()).toEqual({ app: { restarts: [1, 2, 3], untilMs: 99 } });
    expect(readdirSync(dir)).toEqual(["cooldown.json"]);
  });

  it("keeps whether a cooldown was announced yet (a file without the key is of one that was)", () => {
    dir = makeTestDir("cooldown-store");
    const path = join(dir, "cooldown.json");
    new FileCooldownStore(path).saveSync({ app: { restarts: [1], untilMs: 99, announced: false }, old: { restarts: [2], untilMs: 98 } });
    expect(new FileCooldownStore(path).load()).toEqual({ app: { restarts: [1], untilMs: 99, announced: false }, old: { restarts: [2], untilMs: 98 } });
  });

  it("saves in the background, and the newest of quick successive states wins", async () => {
    dir = makeTestDir("cooldown-store");
    const path = join(dir, "cooldown.json");
    const store = new FileCooldownStore(path);
    for (let i = 1; i <= 20; i++) store.save({ app: { restarts: Array.from({ length: i }, (_, k) => k), untilMs: i } });
    await waitFor(() => new FileCooldownStore(path).load().app?.untilMs === 20, 5000, () => "the last state was not written");
    expect(new FileCooldownStore(path).load().app?.restarts).toHaveLength(20);
    expect(readdirSync(dir)).toEqual(["cooldown.json"]);
  });

  it("never lets a background save still under way land after the save at shutdown", async () => {
    dir = makeTestDir("cooldown-store");
    const path = join(dir, "cooldown.json");
    const store = new FileCooldownStore(path);
    const older = { app: { restarts: [1], untilMs: 0 } };
    const newer = { app: { restarts: [1, 2], untilMs: 0 } };
    // A restart is saved in the background; the daemon stops before that write is done.
    store.save(older);
    store.saveSync(newer);
    await store.idle();
    expect(new FileCooldownStore(path).load()).toEqual(newer);
    expect(readdirSync(dir)).toEqual(["cooldown.json"]);
  });

  // A cooldown that begins is on disk before the engine goes on (and announces it): a kill -9
  // right after must not forget it (the fault-injection test saw the looper started again).
  it("writes a state in which a cooldown begins at once, before save returns", () => {
    dir = makeTestDir("cooldown-store");
    const path = join(dir, "cooldown.json");
    const store = new FileCooldownStore(path);
    const untilMs = Date.now() + 3_600_000;
    store.save({ looper: { restarts: [1, 2, 3], untilMs } });
    expect(new FileCooldownStore(path).load()).toEqual({ looper: { restarts: [1, 2, 3], untilMs } });
  });

  // Its early end (ResetCooldown, StartProcess) is announced and the program started at once: a
  // kill -9 right after must not bring the cooldown back over the running program.
  it("writes a state in which a cooldown in force ends at once, before save returns", async () => {
    dir = makeTestDir("cooldown-store");
    const path = join(dir, "cooldown.json");
    const store = new FileCooldownStore(path);
    store.save({ looper: { restarts: [1, 2, 3], untilMs: Date.now() + 3_600_000 }, other: { restarts: [4], untilMs: 0 } });
    store.save({ other: { restarts: [4], untilMs: 0 } });
    expect(new FileCooldownStore(path).load()).toEqual({ other: { restarts: [4], untilMs: 0 } });
    await store.idle();
    // Also a cooldown an earlier daemon run began, ended in this one.
    const untilMs = Date.now() + 3_600_000;
    store.save({ looper: { restarts: [5], untilMs } });
    const next = new FileCooldownStore(path);
    expect(next.load()).toEqual({ looper: { restarts: [5], untilMs } });
    next.save({});
    expect(new FileCooldownStore(path).load()).toEqual({});
    await next.idle();
  });

  it("an older state still being written in the background never replaces a cooldown written since", async () => {
    dir = makeTestDir("cooldown-store");
    const path = join(dir, "cooldown.json");
    const store = new FileCooldownStore(path);
    const untilMs = Date.now() + 3_600_000;
    store.save({ looper: { restarts: [1, 2], untilMs: 0 } });
    store.save({ looper: { restarts: [1, 2, 3], untilMs } });
    // Let the background write of the older state finish (and anything after it).
    await store.idle();
    expect(JSON.parse(readFileSync(path, "utf8"))).toEqual({ version: 1, cooldowns: { looper: { restarts: [1, 2, 3], untilMs } } });
    expect(readdirSync(dir)).toEqual(["cooldown.json"]);
  });

  it("starts empty from a missing or damaged file, and keeps only well-formed records", () => {
    dir = makeTestDir("cooldown-store");
    const path = join(dir, "cooldown.json");
    expect(new FileCooldownStore(path).load()).toEqual({});
    writeFileSync(path, "{ not json");
    expect(new FileCooldownStore(path).load()).toEqual({});
    writeFileSync(path, JSON.stringify({ version: 1, cooldowns: { good: { restarts: [5], untilMs: 0 }, bad: { restarts: "x" } } }));
    expect(new FileCooldownStore(path).load()).toEqual({ good: { restarts: [5], untilMs: 0 } });
  });
});
