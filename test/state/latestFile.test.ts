// LatestFileWriter: background writes that coalesce, a synchronous write that
// nothing older can replace, and a failed write that leaves no temporary file
// and is tried again with the next state.
import { afterEach, describe, expect, it } from "vitest";
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { LatestFileWriter } from "../../daemon/state/latestFile.js";
import { makeTestDir } from "../helpers/daemon.js";

let dir = "";
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe("LatestFileWriter", () => {
  it("lands the newest of many background writes, and a later synchronous one over any still under way", async () => {
    dir = makeTestDir("latest-file");
    const path = join(dir, "state.json");
    const writer = new LatestFileWriter(path, (error) => {
      throw error;
    });
    for (let i = 1; i <= 30; i++) writer.write(`state ${i}\n`);
    writer.writeSync("state at shutdown\n");
    await writer.idle();
    expect(readFileSync(path, "utf8")).toBe("state at shutdown\n");
    expect(readdirSync(dir)).toEqual(["state.json"]);
    // A write handed in after the synchronous one is newer, and lands.
    writer.write("state after\n");
    await writer.idle();
    expect(readFileSync(path, "utf8")).toBe("state after\n");
  });

  it("reports a failed write, leaves no temporary file, and writes the next state", async () => {
    dir = makeTestDir("latest-file");
    const path = join(dir, "state.json");
    // A non-empty directory where the file should be: the rename fails.
    mkdirSync(path);
    writeFileSync(join(path, "in-the-way"), "");
    const errors: Error[] = [];
    const writer = new LatestFileWriter(path, (error) => errors.push(error));
    writer.write("first\n");
    await writer.idle();
    expect(errors).toHaveLength(1);
    expect(readdirSync(dir)).toEqual(["state.json"]);
    rmSync(path, { recursive: true });
    writer.write("second\n");
    await writer.idle();
    expect(readFileSync(path, "utf8")).toBe("second\n");
    expect(errors).toHaveLength(1);
  });
});
