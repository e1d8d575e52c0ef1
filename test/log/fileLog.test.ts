// The daemon's own log file (`selfheal daemon --log-file`): timestamped lines, rotated by size.
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { FileLog } from "../../daemon/log/fileLog.js";
import { makeTempDir } from "../helpers/bus.js";

const AT = new Date("2026-01-31T08:00:00.000Z");

describe("FileLog", () => {
  it("stamps each line of a write with the time", () => {
    const path = join(makeTempDir("log"), "state", "daemon.log");
    const log = new FileLog(path, 1024, () => AT);
    log.write("selfheal: one\nselfheal: two\n");
    expect(readFileSync(path, "utf8")).toBe("2026-01-31T08:00:00.000Z selfheal: one\n2026-01-31T08:00:00.000Z selfheal: two\n");
  });

  it("rotates into daemon.log.1 before a write would pass the limit in bytes, keeping one old file", () => {
    const path = join(makeTempDir("log"), "daemon.log");
    const log = new FileLog(path, 90, () => AT);
    // 40 bytes in 20 characters: 66 with the stamp and the newline; "second" makes 32 more.
    const line = "é".repeat(20);
    log.write(line);
    log.write("second");
    expect(readFileSync(`${path}.1`, "utf8")).toBe(`2026-01-31T08:00:00.000Z ${line}\n`);
    expect(readFileSync(path, "utf8")).toBe("2026-01-31T08:00:00.000Z second\n");
    log.write(line);
    log.write("third");
    expect(readFileSync(`${path}.1`, "utf8")).toContain(line);
    expect(readFileSync(path, "utf8")).toBe("2026-01-31T08:00:00.000Z third\n");
  });

  it("continues a file that is already there, counting its size", () => {
    const path = join(makeTempDir("log"), "daemon.log");
    new FileLog(path, 100, () => AT).write("x".repeat(50));
    new FileLog(path, 100, () => AT).write("y".repeat(50));
    expect(existsSync(`${path}.1`)).toBe(true);
    expect(readFileSync(path, "utf8")).toContain("y".repeat(50));
  });
});
