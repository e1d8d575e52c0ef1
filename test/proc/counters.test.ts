// The sentinels' whole-system counters read from crafted /proc files: the
// number after the key, wherever the key is, with or without a final newline,
// from a file larger than the first buffer, and null when it is missing.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { ProcCounters } from "../../daemon/proc/counters.js";

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

// A /proc with the given stat and meminfo texts (undefined: no such file).
function crafted(stat: string | undefined, meminfo: string | undefined): ProcCounters {
  const root = mkdtempSync(join(tmpdir(), "selfheal-counters-"));
  dirs.push(root);
  mkdirSync(root, { recursive: true });
  if (stat !== undefined) writeFileSync(join(root, "stat"), stat);
  if (meminfo !== undefined) writeFileSync(join(root, "meminfo"), meminfo);
  return new ProcCounters(root);
}

const STAT = "cpu  1 2 3 4\ncpu0 1 2 3 4\nintr 12345 0 0 1\nctxt 999\nbtime 1700000000\nprocesses 48213\nprocs_running 2\n";
const MEMINFO = "MemTotal:       16318480 kB\nMemFree:         1187020 kB\nMemAvailable:    9071752 kB\nBuffers:          301172 kB\n";

describe("the kernel's counters, from crafted files", () => {
  it("reads the fork counter and the available memory (kB to bytes)", () => {
    const counters = crafted(STAT, MEMINFO);
    expect(counters.forksSinceBoot()).toBe(48213);
    expect(counters.availableMemoryBytes()).toBe(9071752 * 1024);
    counters.close();
  });

  it("reads a key on the file's last line without a final newline, whole", () => {
    const counters = crafted("cpu  1 2 3 4\nprocesses 48213", "MemTotal: 1 kB\nMemAvailable: 4096");
    expect(counters.forksSinceBoot()).toBe(48213);
    expect(counters.availableMemoryBytes()).toBe(4096 * 1024);
    counters.close();
  });

  it("reads a file larger than its first buffer (many CPUs make /proc/stat long)", () => {
    const cpus = Array.from({ length: 2000 }, (_, i) => `cpu${i} 1 2 3 4 5 6 7 8 9 10`).join("\n");
    const counters = crafted(`cpu  1 2 3 4\n${cpus}\nintr ${"0 ".repeat(5000)}\nprocesses 77\n`, MEMINFO);
    expect(counters.forksSinceBoot()).toBe(77);
    counters.close();
  });

  it("reads the values again on every call (the file is read afresh)", () => {
    const root = mkdtempSync(join(tmpdir(), "selfheal-counters-"));
    dirs.push(root);
    writeFileSync(join(root, "stat"), "cpu  1 2\nprocesses 10\n");
    writeFileSync(join(root, "meminfo"), "MemTotal: 1 kB\nMemAvailable: 100 kB\n");
    const counters = new ProcCounters(root);
    expect(counters.forksSinceBoot()).toBe(10);
    // Written in place (same inode, as the kernel's files are the same file read again), and shorter than before.
    writeFileSync(join(root, "stat"), "cpu  1 2\nprocesses 9\n");
    expect(counters.forksSinceBoot()).toBe(9);
    writeFileSync(join(root, "stat"), "cpu  1 2\nprocs 1\n");
    expect(counters.forksSinceBoot()).toBeNull();
    counters.close();
  });

  it("is null when the key is missing or has no number after it", () => {
    const counters = crafted("cpu  1 2 3 4\nprocs_running 2\n", "MemTotal: 1 kB\nMemAvailable: kB\n");
    expect(counters.forksSinceBoot()).toBeNull();
    expect(counters.availableMemoryBytes()).toBeNull();
    counters.close();
  });

  it("is null for a missing file", () => {
    const counters = crafted(undefined, MEMINFO);
    expect(counters.forksSinceBoot()).toBeNull();
    expect(counters.availableMemoryBytes()).toBe(9071752 * 1024);
    counters.close();
  });
});
