// ChildSpawner on real processes: the environment a program gets.
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import type { Policy } from "../../daemon/config/policy.js";
import { validatePolicyObject } from "../../daemon/config/load.js";
import { ChildSpawner, DAEMON_ONLY_ENV_KEYS } from "../../daemon/supervise/spawner.js";

const dir = mkdtempSync(join(tmpdir(), "selfheal-spawner-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// Start `policy` and wait for it to end.
async function run(spawner: ChildSpawner, policy: Policy): Promise<void> {
  const child = await spawner.spawn(policy);
  await new Promise<void>((done) => child.onExit(() => done()));
}

describe("the environment of a program", () => {
  it("is the daemon's and the policy's, without the allocator setting meant for the daemon alone", async () => {
    const out = join(dir, "env.txt");
    const policy = validatePolicyObject("envdump", { command: ["/bin/sh", "-c", `env > ${out}`], env: { FROM_POLICY: "yes" } }, "test");
    const base = { PATH: process.env.PATH, FROM_SESSION: "yes", ...Object.fromEntries(DAEMON_ONLY_ENV_KEYS.map((key) => [key, "8192"])) };
    await run(new ChildSpawner(base), policy);
    const lines = readFileSync(out, "utf8").split("\n");
    expect(lines).toEqual(expect.arrayContaining(["FROM_SESSION=yes", "FROM_POLICY=yes"]));
    expect(lines.filter((line) => line.startsWith("MALLOC_MMAP_THRESHOLD_"))).toEqual([]);
    expect(base).toHaveProperty("MALLOC_MMAP_THRESHOLD_", "8192");
  });
});
