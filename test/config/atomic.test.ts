// writeFileAtomic: a reader racing the writer only ever sees a whole old or a
// whole new file, writes land in order, and no temporary file is left behind.
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Worker } from "node:worker_threads";

import { afterAll, describe, expect, it } from "vitest";

import { removeStaleTempFiles, writeFileAtomic, writeFileAtomicSync } from "../../daemon/state/atomic.js";
import { startDaemon } from "../helpers/daemon.js";

const root = mkdtempSync(join(tmpdir(), "selfheal-atomic-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const WRITES = 150;
/** Two contents of different sizes, so a torn or truncated read cannot equal either. */
const CONTENT_A = `${"a".repeat(400_000)}\n`;
const CONTENT_B = `${"b".repeat(250_000)}\n`;

/** A reader in another thread: reads until told to stop, counting whole and torn reads. */
const READER_SOURCE = `
const { readFileSync } = require("node:fs");
const { parentPort, workerData } = require("node:worker_threads");
const stop = new Int32Array(workerData.stop);
let whole = 0, torn = 0, missing = 0;
while (Atomics.load(stop, 0) === 0) {
  let text;
  try { text = readFileSync(workerData.path, "utf8"); } catch { missing++; continue; }
  if (text === workerData.a || text === workerData.b) whole++; else torn++;
}
parentPort.postMessage({ whole, torn, missing });
`;

// Start the racing reader on `path`; resolves with its counts once `stop` is set.
function startReader(path: string, stop: SharedArrayBuffer): Promise<{ whole: number; torn: number; missing: number }> {
  const worker = new Worker(READER_SOURCE, { eval: true, workerData: { path, stop, a: CONTENT_A, b: CONTENT_B } });
  return new Promise((resolve, reject) => {
    worker.once("message", resolve);
    worker.once("error", reject);
  });
}

// The names in `dir` other than the target file: leftovers of a write.
function leftovers(dir: string, target: string): string[] {
  return readdirSync(dir).filter((name) => name !== target);
}

describe("writeFileAtomicSync", () => {
  it("never lets a concurrent reader see a half-written file", async () => {
    const dir = join(root, "race-sync");
    const path = join(dir, "state.json");
    writeFileAtomicSync(path, CONTENT_A);
    const stop = new SharedArrayBuffer(4);
    const reading = startReader(path, stop);
    await new Promise((resolve) => setTimeout(resolve, 50));
    for (let i = 0; i < WRITES; i++) writeFileAtomicSync(path, i % 2 === 0 ? CONTENT_B : CONTENT_A);
    Atomics.store(new Int32Array(stop), 0, 1);
    const counts = await reading;
    expect(counts.torn).toBe(0);
    expect(counts.missing).toBe(0);
    expect(counts.whole).toBeGreaterThan(0);
    expect(readFileSync(path, "utf8")).toBe(WRITES % 2 === 0 ? CONTENT_A : CONTENT_B);
    expect(leftovers(dir, "state.json")).toEqual([]);
  });

  it("creates the directory and gives the file owner-only permissions", () => {
    const path = join(root, "new", "deeper", "file.json");
    writeFileAtomicSync(path, "{}\n");
    expect(readFileSync(path, "utf8")).toBe("{}\n");
    expect(statSync(path).mode & 0o777).toBe(0o600);
    writeFileAtomicSync(path, "x", { mode: 0o644 });
    expect(statSync(path).mode & 0o777).toBe(0o644);
  });

  it("removes its temporary file when the rename fails", () => {
    const dir = join(root, "fail-sync");
    const target = join(dir, "occupied");
    mkdirSync(target, { recursive: true });
    writeFileSync(join(target, "inside"), "x");
    expect(() => writeFileAtomicSync(target, "data")).toThrow();
    expect(leftovers(dir, "occupied")).toEqual([]);
  });
});

describe("writeFileAtomic", () => {
  it("never lets a concurrent reader see a half-written file", async () => {
    const dir = join(root, "race-async");
    const path = join(dir, "state.json");
    await writeFileAtomic(path, CONTENT_A);
    const stop = new SharedArrayBuffer(4);
    const reading = startReader(path, stop);
    for (let i = 0; i < WRITES; i++) await writeFileAtomic(path, i % 2 === 0 ? CONTENT_B : CONTENT_A);
    Atomics.store(new Int32Array(stop), 0, 1);
    const counts = await reading;
    expect(counts.torn).toBe(0);
    expect(counts.missing).toBe(0);
    expect(leftovers(dir, "state.json")).toEqual([]);
  });

  it("lands overlapping writes to one path in call order", async () => {
    const dir = join(root, "order");
    const path = join(dir, "state.json");
    const writes = Array.from({ length: 40 }, (_, i) => writeFileAtomic(path, `write ${i}\n`));
    await Promise.all(writes);
    expect(readFileSync(path, "utf8")).toBe("write 39\n");
    expect(leftovers(dir, "state.json")).toEqual([]);
  });

  it("with the directory flushed after (an edit's reply waits on it): resolves with the file whole in place, writes in call order, nothing left behind", async () => {
    const dir = join(root, "flush-after");
    const path = join(dir, "overrides.json");
    const writes = Array.from({ length: 40 }, (_, i) => writeFileAtomic(path, `write ${i}\n`, { flushDirectory: "after" }));
    await writes[0];
    expect(readFileSync(path, "utf8")).toMatch(/^write \d+\n$/);
    await Promise.all(writes);
    expect(readFileSync(path, "utf8")).toBe("write 39\n");
    expect(leftovers(dir, "overrides.json")).toEqual([]);
  });

  it("rejects and cleans up when the rename fails, without blocking later writes", async () => {
    const dir = join(root, "fail-async");
    const target = join(dir, "occupied");
    mkdirSync(target, { recursive: true });
    writeFileSync(join(target, "inside"), "x");
    await expect(writeFileAtomic(target, "data")).rejects.toThrow();
    expect(leftovers(dir, "occupied")).toEqual([]);
    await writeFileAtomic(join(dir, "other"), "ok");
    expect(readFileSync(join(dir, "other"), "utf8")).toBe("ok");
  });
});

describe("removeStaleTempFiles", () => {
  // A pid that no process has any more: a child that has ended and been reaped.
  const deadPid = (): number => spawnSync("true").pid!;

  it("removes what interrupted writes left (their writer gone, or older than any write), and nothing else", () => {
    const dir = join(root, "stale");
    mkdirSync(dir, { recursive: true });
    const dead = deadPid();
    const files = {
      deadWriter: `.cooldown.json.${dead}.3.tmp`,
      oldWrite: `.overrides.json.${process.pid}.1.tmp`,
      liveWrite: `.overrides.json.${process.pid}.2.tmp`,
      notOurs: "notes.tmp",
      notOursHidden: ".editor-swap.tmp",
      state: "cooldown.json",
    };
    for (const name of Object.values(files)) writeFileSync(join(dir, name), "x");
    const twoMinutesAgo = Date.now() / 1000 - 120;
    utimesSync(join(dir, files.oldWrite), twoMinutesAgo, twoMinutesAgo);
    expect(removeStaleTempFiles(dir).sort()).toEqual([files.deadWriter, files.oldWrite].sort());
    expect(readdirSync(dir).sort()).toEqual([files.liveWrite, files.notOurs, files.notOursHidden, files.state].sort());
    expect(removeStaleTempFiles(join(root, "no-such-dir"))).toEqual([]);
  });

  it("counts a writer that ended but is not reaped yet (a zombie) as gone: a daemon killed just before the next one starts", async () => {
    const dir = join(root, "zombie-writer");
    mkdirSync(dir, { recursive: true });
    const { zombie, parent } = await makeZombie();
    try {
      const name = `.cooldown.json.${zombie}.4.tmp`;
      writeFileSync(join(dir, name), "{");
      expect(removeStaleTempFiles(dir)).toEqual([name]);
    } finally {
      parent.kill("SIGKILL");
    }
  });

  it("the daemon removes them from its state and config folders when it starts", async () => {
    const dir = join(root, "daemon-start");
    const stateDir = join(dir, "state", "selfheal");
    const configDir = join(dir, "config", "selfheal");
    mkdirSync(stateDir, { recursive: true });
    mkdirSync(configDir, { recursive: true });
    const dead = deadPid();
    writeFileSync(join(stateDir, `.cooldown.json.${dead}.7.tmp`), "{".repeat(1000));
    writeFileSync(join(stateDir, `.overrides.json.${dead}.8.tmp`), "{");
    writeFileSync(join(configDir, `.config.toml.${dead}.1.tmp`), "[process");
    const daemon = await startDaemon("", { dir });
    try {
      expect(readdirSync(stateDir).filter((name) => name.endsWith(".tmp"))).toEqual([]);
      expect(readdirSync(configDir).filter((name) => name.endsWith(".tmp"))).toEqual([]);
      expect(daemon.stderr()).toMatch(/removed 3 temporary files left by interrupted writes/);
    } finally {
      await daemon.cleanup();
    }
  });
});

// A zombie and its parent: a shell's background child that ends after the shell has become
// `sleep`, which never reaps it. Should the shell reap it first (it ended before the exec on a
// stalled machine), another try.
async function makeZombie(): Promise<{ zombie: number; parent: ChildProcess }> {
  for (let attempt = 0; attempt < 5; attempt++) {
    const parent = spawn("sh", ["-c", "sleep 0.5 & echo $!; exec sleep 60"], { stdio: ["ignore", "pipe", "ignore"] });
    const zombie = await new Promise<number>((done) => parent.stdout!.once("data", (chunk: Buffer) => done(Number(chunk.toString().trim()))));
    for (let waited = 0; waited < 10_000; waited += 20) {
      let stat: string;
      try {
        stat = readFileSync(`/proc/${zombie}/stat`, "latin1");
      } catch {
        break;
      }
      if (stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3) === "Z") return { zombie, parent };
      await new Promise((done) => setTimeout(done, 20));
    }
    parent.kill("SIGKILL");
  }
  throw new Error("no zombie could be made");
}
