// GetHistory over D-Bus: the real, built daemon on a private bus, watching a copy of sleep of
// the test's own; its trend grows by one sample a scan, oldest first, and a name without a
// policy is an UnknownProcess error.
import { describe, expect, it } from "vitest";

import { connectClient, errorOf, selfheal } from "../helpers/bus.js";
import { killQuietly, makeTestDir, startDaemon, uniqueSleep, waitFor } from "../helpers/daemon.js";
import { cleanupsAfterEach } from "../notify/shared.js";

const cleanups = cleanupsAfterEach();

describe("GetHistory", () => {
  it("returns (time_usec, cpu_percent, rss_bytes) per scan while the program runs, since the time asked", async () => {
    const dir = makeTestDir("history");
    const name = `trend${process.pid}${Date.now() % 100_000}`;
    const program = uniqueSleep(dir, name);
    const daemon = await startDaemon(`[settings]\ninterval = 0.2\n\n[process.${name}]\ncommand = [${JSON.stringify(program)}, "300"]\nautostart = true\n`, { dir });
    cleanups.push(() => daemon.cleanup());
    cleanups.push(() => killQuietly(daemon.events().flatMap((event) => (event.kind === "started" ? [event.pid] : []))));
    const client = await connectClient(daemon.bus);
    cleanups.push(() => client.close());

    let samples: Array<[bigint, number, number]> = [];
    await waitFor(
      async () => {
        [samples] = (await client.call("GetHistory", "st", [name, 0n])) as [Array<[bigint, number, number]>];
        return samples.length >= 5;
      },
      15_000,
      () => `only ${samples.length} samples`,
    );
    for (const [time, cpu, rss] of samples) {
      expect(typeof time).toBe("bigint");
      expect(cpu).toBeGreaterThanOrEqual(0);
      expect(rss).toBeGreaterThan(0);
    }
    const times = samples.map(([time]) => Number(time / 1000n));
    expect([...times].sort((a, b) => a - b)).toEqual(times);
    expect(Math.abs(times.at(-1)! - Date.now())).toBeLessThan(60_000);

    const since = samples[2]![0];
    const [later] = (await client.call("GetHistory", "st", [name, since])) as [Array<[bigint, number, number]>];
    expect(later[0]![0]).toBe(since);

    const refused = await errorOf(client.call("GetHistory", "st", ["no-such-program", 0n]));
    expect(refused.type).toBe("io.github.SelfHeal1.Error.UnknownProcess");

    // The command line: the detail, then the trend as two sparklines.
    const shown = await selfheal(daemon.bus, ["status", name, "--history"]);
    expect(shown.code, shown.stderr).toBe(0);
    expect(shown.stdout).toMatch(/^history: +\d+ samples over \d+ min/m);
    expect(shown.stdout).toMatch(/^ {2}memory +[▁▂▃▄▅▆▇█ ]+ {2}[\d.]+ [KMG]i?B to [\d.]+ [KMG]i?B$/m);
    expect(shown.stdout).toMatch(/^ {2}cpu +[▁▂▃▄▅▆▇█ ]+ {2}[\d.]+% to [\d.]+%$/m);
    const asJson = JSON.parse((await selfheal(daemon.bus, ["status", name, "--history", "--json"])).stdout) as { history: unknown[][] };
    expect(asJson.history.length).toBeGreaterThanOrEqual(5);
    const usage = await selfheal(daemon.bus, ["status", "--history"]);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain("status --history needs a process name");
  }, 60_000);
});
