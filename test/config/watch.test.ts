// watchConfig: fires on in-place writes and on editor-style rename-replace,
// debounces bursts, ignores other files, and copes with a missing directory.
import { existsSync, mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";

import { afterAll, afterEach, describe, expect, it } from "vitest";

import { watchConfig, type ConfigWatcher } from "../../daemon/config/watch.js";

const root = mkdtempSync(join(tmpdir(), "selfheal-watch-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const DEBOUNCE_MS = 50;
/** Longer than the debounce plus inotify latency on a loaded machine. */
const SETTLE_MS = 400;

let watcher: ConfigWatcher | null = null;
afterEach(() => watcher?.close());

let dirCount = 0;
// A config path in a fresh directory that does not exist yet.
function freshPath(): string {
  dirCount += 1;
  return join(root, `conf-${dirCount}`, "config.toml");
}

// A config path in a fresh directory that exists, holding `text` as config.toml.
function existingPath(text: string): string {
  const path = freshPath();
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, text);
  return path;
}

// Watch `path`, counting calls.
function countChanges(path: string): { count: () => number } {
  let calls = 0;
  watcher = watchConfig(path, () => (calls += 1), { debounceMs: DEBOUNCE_MS });
  return { count: () => calls };
}

// Wait for things to settle.
function settle(ms = SETTLE_MS): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

describe("watchConfig", () => {
  it("creates a missing directory and fires when the file first appears", async () => {
    const path = freshPath();
    const changes = countChanges(path);
    expect(existsSync(dirname(path))).toBe(true);
    writeFileSync(path, "[settings]\n");
    await settle();
    expect(changes.count()).toBe(1);
  });

  it("fires once for an in-place write burst", async () => {
    const path = freshPath();
    const changes = countChanges(path);
    writeFileSync(path, "a = 1\n");
    writeFileSync(path, "a = 2\n", { flag: "a" });
    writeFileSync(path, "a = 3\n");
    await settle();
    expect(changes.count()).toBe(1);
    writeFileSync(path, "a = 4\n");
    await settle();
    expect(changes.count()).toBe(2);
  });

  it("fires when an editor renames a new file over the old one", async () => {
    const path = existingPath("old\n");
    const changes = countChanges(path);
    await settle(50);
    const temp = join(dirname(path), ".config.toml.swp");
    writeFileSync(temp, "new\n");
    renameSync(temp, path);
    await settle();
    expect(changes.count()).toBe(1);
    // The watch survives the replacement: a second rename is seen too.
    writeFileSync(temp, "newer\n");
    renameSync(temp, path);
    await settle();
    expect(changes.count()).toBe(2);
  });

  it("fires when the file is deleted and ignores other files in the directory", async () => {
    const path = existingPath("x\n");
    const changes = countChanges(path);
    writeFileSync(join(dirname(path), "notes.txt"), "unrelated\n");
    await settle();
    expect(changes.count()).toBe(0);
    rmSync(path);
    await settle();
    expect(changes.count()).toBe(1);
  });

  it("watches again after its directory is removed", async () => {
    const path = existingPath("x\n");
    let calls = 0;
    watcher = watchConfig(path, () => (calls += 1), { debounceMs: DEBOUNCE_MS, retryMs: 100 });
    rmSync(dirname(path), { recursive: true });
    await settle();
    expect(existsSync(dirname(path))).toBe(true);
    const before = calls;
    expect(before).toBeGreaterThan(0);
    writeFileSync(path, "y\n");
    await settle();
    expect(calls).toBe(before + 1);
  });

  it("stops after close()", async () => {
    const path = freshPath();
    const changes = countChanges(path);
    watcher?.close();
    writeFileSync(path, "x\n");
    await settle();
    expect(changes.count()).toBe(0);
  });
});
