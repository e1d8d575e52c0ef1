// What a daemon takes back from the keepers' folder at start (KeeperSpawner.recover),
// on records written here by hand: which it recovers, which it drops as stale, which
// it leaves to another daemon. The liveness of keepers is a fake probe; no keeper runs.
import { afterEach, describe, expect, it } from "vitest";
import { existsSync, mkdirSync, readdirSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { KeeperSpawner } from "../../daemon/keeper/spawner.js";
import { makeTestDir } from "../helpers/daemon.js";

const BOOT = "6a5a6071-1297-4b96-9a86-58ec65f3433d";
const NOW = 1_800_000_000_000;
const DAY_MS = 24 * 60 * 60 * 1000;

let dir = "";
let spawner: KeeperSpawner | null = null;

afterEach(() => {
  spawner?.close();
  spawner = null;
  if (dir !== "") rmSync(dir, { recursive: true, force: true });
});

/** Keepers the fake probe says are alive, as "pid:start". */
const alive = new Set<string>();

function record(keeper: number, fields: { tag: string; program?: number; end?: string; boot?: string; ageMs?: number }): string {
  const name = `${keeper}-${keeper * 10}.keeper`;
  const program = fields.program ?? keeper + 1;
  const text = `selfheal-keeper 1\nboot ${fields.boot ?? BOOT}\ntag ${fields.tag}\nkeeper ${keeper} ${keeper * 10}\nprogram ${program} ${program * 10}\n${fields.end ? `end ${fields.end}\n` : ""}`;
  writeFileSync(join(dir, name), text);
  const atSec = (NOW - (fields.ageMs ?? 0)) / 1000;
  utimesSync(join(dir, name), atSec, atSec);
  return name;
}

function start(): KeeperSpawner {
  spawner = new KeeperSpawner({
    keeperPath: "/bin/true",
    dir,
    baseEnv: {},
    bootId: BOOT,
    now: () => NOW,
    probe: { isAlive: (pid, startTicks) => alive.has(`${pid}:${startTicks}`) },
  });
  return spawner;
}

describe("recover", () => {
  it("takes back a running program, and an end recorded while no daemon ran, told as soon as it is listened to", () => {
    dir = makeTestDir("recover");
    alive.clear();
    alive.add("100:1000");
    record(100, { tag: "web" });
    const ended = record(200, { tag: "db", end: `signal 11 1 ${NOW - 5000}` });
    const recovered = start().recover(new Set(["web", "db"]));
    expect(recovered.map((r) => [r.name, r.running, r.handle.pid]).sort()).toEqual([
      ["db", false, 201],
      ["web", true, 101],
    ]);
    const db = recovered.find((r) => r.name === "db")!.handle;
    const told: unknown[] = [];
    db.onExit((code, signal, details) => told.push({ code, signal, details }));
    expect(told).toEqual([{ code: null, signal: "SIGSEGV", details: { coreDumped: true, endedAtMs: NOW - 5000, whileAway: true } }]);
    // Told, the record stays until the daemon has acted on it (a restart handed over): a daemon killed before that reads it again.
    expect(existsSync(join(dir, ended))).toBe(true);
    db.release!();
    expect(existsSync(join(dir, ended))).toBe(false);
  });

  it("a program whose keeper died without an end: recovered, told as lost, its record dropped", () => {
    dir = makeTestDir("recover-lost");
    alive.clear();
    const name = record(300, { tag: "web" });
    const [lost] = start().recover(new Set(["web"]));
    expect(lost).toMatchObject({ name: "web", running: false });
    const reasons: string[] = [];
    lost!.handle.onLost!((reason) => reasons.push(reason));
    expect(reasons).toEqual(["its keeper (PID 300) ended without recording the program's end"]);
    expect(existsSync(join(dir, name))).toBe(false);
  });

  it("drops records of another boot, unreadable ones whose keeper is gone, and temporary files of dead keepers", () => {
    dir = makeTestDir("recover-stale");
    alive.clear();
    alive.add("500:5000");
    const otherBoot = record(400, { tag: "web", boot: "another-boot" });
    writeFileSync(join(dir, "600-6000.keeper"), "torn");
    writeFileSync(join(dir, "500-5000.keeper"), "selfheal-keeper 2\na later format\n");
    writeFileSync(join(dir, ".700-7000.keeper.tmp"), "half");
    writeFileSync(join(dir, ".500-5000.keeper.tmp"), "being written");
    // Where keepers write now (keeper.c): the subfolder .writing, the same names without the leading dot.
    mkdirSync(join(dir, ".writing"));
    writeFileSync(join(dir, ".writing", "710-7100.keeper.tmp"), "half");
    writeFileSync(join(dir, ".writing", "500-5000.keeper.tmp"), "being written");
    expect(start().recover(new Set(["web"]))).toEqual([]);
    expect(readdirSync(dir).sort()).toEqual([".500-5000.keeper.tmp", ".writing", "500-5000.keeper"]);
    expect(readdirSync(join(dir, ".writing"))).toEqual(["500-5000.keeper.tmp"]);
    expect(existsSync(join(dir, otherBoot))).toBe(false);
  });

  it("leaves records no policy of its own names to their daemon, for a day once ended", () => {
    dir = makeTestDir("recover-others");
    alive.clear();
    alive.add("800:8000");
    const running = record(800, { tag: "theirs" });
    const endedRecently = record(810, { tag: "theirs", end: `exit 0 0 ${NOW}`, ageMs: 60_000 });
    const endedLongAgo = record(820, { tag: "gone", end: `exit 0 0 ${NOW - 2 * DAY_MS}`, ageMs: 2 * DAY_MS });
    const deadLongAgo = record(830, { tag: "gone", ageMs: 2 * DAY_MS });
    expect(start().recover(new Set(["mine"]))).toEqual([]);
    expect(readdirSync(dir).sort()).toEqual([endedRecently, running].sort());
    expect(existsSync(join(dir, endedLongAgo))).toBe(false);
    expect(existsSync(join(dir, deadLongAgo))).toBe(false);
  });

  it("does not recover what it watches already", () => {
    dir = makeTestDir("recover-twice");
    alive.clear();
    alive.add("900:9000");
    record(900, { tag: "web" });
    const keepers = start();
    expect(keepers.recover(new Set(["web"]))).toHaveLength(1);
    expect(keepers.recover(new Set(["web"]))).toEqual([]);
  });
});
