// Programs whose first process forks the real program and exits 0 (daemons,
// some GUI launchers): selfheal follows the fork instead of starting the
// program again, under every restart policy, and never starts a program while
// a process its policy matches runs. Real daemon, real programs (copies of
// sleep under unique names); only the test's own programs are signalled.
import { afterEach, describe, expect, it } from "vitest";
import { spawn } from "node:child_process";
import { readdirSync, readlinkSync } from "node:fs";
import type { EngineEvent } from "../../daemon/engine/events.js";
import { connectClient, processOf, type BusClient } from "../helpers/bus.js";
import { isRunning, killQuietly, makeTestDir, startDaemon, uniqueSleep, waitFor, type RunningDaemon } from "../helpers/daemon.js";

/** How long the instances are counted, once a second. */
const WATCH_SECONDS = 30;
const POLICIES = ["on-failure", "always", "never"] as const;

let daemon: RunningDaemon | null = null;
const extraDaemons: RunningDaemon[] = [];
let client: BusClient | null = null;
const leftovers: number[] = [];

afterEach(async () => {
  client?.close();
  client = null;
  await daemon?.cleanup();
  daemon = null;
  for (const extra of extraDaemons.splice(0)) await extra.cleanup();
  killQuietly(leftovers.splice(0));
});

// The live processes running the executable at `path` (zombies excluded: they have no exe).
function instancesOf(path: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readlinkSync(`/proc/${entry}/exe`) === path) pids.push(Number(entry));
    } catch {
      // gone, or a kernel thread
    }
  }
  return pids;
}

interface ForkAway {
  name: string;
  path: string;
  restart: (typeof POLICIES)[number];
}

// A match for the copy of sleep at `path` only (as a TOML string): by its folder, unique to this run.
// By name alone, a run of this file elsewhere on the machine had its programs adopted, and ended.
function matchOf(path: string): string {
  return JSON.stringify(`/^${path.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&")} /`);
}

// A policy whose command forks the program away and exits 0: with `&` (same session) or with setsid -f (a session of its own).
function forkAwayPolicy(program: ForkAway, style: "background" | "setsid"): string {
  const script = style === "background" ? `${program.path} 600 & exit 0` : `setsid -f ${program.path} 600; exit 0`;
  return `[process.${program.name}]\ncommand = ["sh", "-c", ${JSON.stringify(script)}]\nmatch = ${matchOf(program.path)}\nrestart = "${program.restart}"\nautostart = true\n`;
}

describe("a program that forks away and exits 0", () => {
  it(`runs exactly once under each restart policy, with and without keepers, counted every second for ${WATCH_SECONDS} s`, async () => {
    // Two daemons side by side (their programs have names of their own): with keepers (the default) and --no-keeper.
    const settled = await Promise.allSettled(
      (["keeper", "nokeeper"] as const).map(async (mode) => {
        const dir = makeTestDir(`forkaway-${mode}`);
        const programs: Array<ForkAway & { style: "background" | "setsid" }> = [];
        for (const style of ["background", "setsid"] as const) {
          for (const restart of POLICIES) {
            const name = `f${mode === "keeper" ? "k" : "n"}${style === "background" ? "bg" : "ss"}${restart.replace("-", "")}`;
            programs.push({ name, path: uniqueSleep(dir, name), restart, style });
          }
        }
        const config = `[settings]\ninterval = 0.2\n\n${programs.map((p) => forkAwayPolicy(p, p.style)).join("\n")}`;
        const started = await startDaemon(config, { dir, args: mode === "keeper" ? [] : ["--no-keeper"] });
        return { mode, programs, daemon: started };
      }),
    );
    // Whatever started is cleaned up, even when the other failed to.
    for (const result of settled) if (result.status === "fulfilled") extraDaemons.push(result.value.daemon);
    const failed = settled.find((result) => result.status === "rejected");
    if (failed) throw failed.reason;
    const setups = settled.flatMap((result) => (result.status === "fulfilled" ? [result.value] : []));
    const programs = setups.flatMap((setup) => setup.programs);
    const allEvents = () => setups.flatMap((setup) => setup.daemon.events());
    await waitFor(
      () => programs.every((p) => instancesOf(p.path).length > 0),
      10_000,
      () => `not every program started: ${programs.map((p) => `${p.name} ${instancesOf(p.path).length}`).join(", ")}\n${allEvents().map((e) => e.message).join("\n")}`,
    );
    const counts = new Map(programs.map((p) => [p.name, [] as number[]]));
    for (let second = 0; second < WATCH_SECONDS; second++) {
      for (const program of programs) counts.get(program.name)!.push(instancesOf(program.path).length);
      await new Promise((r) => setTimeout(r, 1000));
    }
    for (const program of programs) {
      expect({ name: program.name, counts: counts.get(program.name) }).toEqual({ name: program.name, counts: Array(WATCH_SECONDS).fill(1) });
    }
    for (const { mode, programs: own, daemon: running } of setups) {
      const events = running.events();
      const log = events.map((e) => e.message).join("\n");
      for (const program of own) {
        const [pid] = instancesOf(program.path);
        const followed = events.find((e): e is Extract<EngineEvent, { kind: "followed" }> => e.kind === "followed" && e.name === program.name);
        if (mode === "keeper" || program.style === "background") {
          // A keeper follows either fork; without one, the daemon follows a process of the program's session.
          expect(followed, `${program.name} followed; events:\n${log}`).toMatchObject({ newPid: pid, managed: mode === "keeper" });
          expect(followed!.message).toContain("the program forked away");
          // From the process started (the launcher), as its start was told.
          const started = events.find((e) => e.kind === "started" && e.name === program.name);
          expect(followed).toMatchObject({ oldPid: started?.kind === "started" ? started.pid : -1 });
          expect(followed!.oldPid).not.toBe(pid);
        } else {
          // setsid -f leaves the session (unless the daemon looked before the setsid): without a keeper the
          // process is then adopted by its name instead, never started twice.
          const watched = followed ?? events.find((e) => e.kind === "adopted" && e.name === program.name);
          expect(watched, `${program.name} followed or adopted; events:\n${log}`).toMatchObject(followed ? { newPid: pid } : { pid });
        }
      }
      expect(events.filter((e) => e.kind === "cooldown-started")).toEqual([]);
    }
  }, 90_000);

  it("stays selfheal's own: a crash of the followed process is told with its signal and restarted (on-failure)", async () => {
    const dir = makeTestDir("forkaway-crash");
    const program: ForkAway = { name: "facrash", path: uniqueSleep(dir, "facrash"), restart: "on-failure" };
    daemon = await startDaemon(`[settings]\ninterval = 0.2\n\n${forkAwayPolicy(program, "background")}`, { dir });
    client = await connectClient(daemon.bus);
    const followed = await daemon.waitForEvent("followed", (e) => e.name === "facrash");
    expect(await processOf(client, "facrash")).toMatchObject({ pid: followed.newPid, managed: true, state: "running" });
    process.kill(followed.newPid, "SIGSEGV");
    const crashed = await daemon.waitForEvent("crashed", (e) => e.pid === followed.newPid);
    expect(crashed).toMatchObject({ signal: "SIGSEGV", statusKnown: true, willRestart: true });
    const again = await daemon.waitForEvent("followed", (e) => e.name === "facrash" && e.newPid !== followed.newPid);
    await waitFor(() => instancesOf(program.path).length === 1 && instancesOf(program.path)[0] === again.newPid, 5000, () => `instances: ${instancesOf(program.path).join(", ")}`);
  });

  it("StopProcess ends the process it followed, and it stays stopped", async () => {
    const dir = makeTestDir("forkaway-stop");
    const program: ForkAway = { name: "fastop", path: uniqueSleep(dir, "fastop"), restart: "always" };
    daemon = await startDaemon(`[settings]\ninterval = 0.2\n\n${forkAwayPolicy(program, "setsid")}`, { dir });
    client = await connectClient(daemon.bus);
    const followed = await daemon.waitForEvent("followed", (e) => e.name === "fastop");
    await client.call("StopProcess", "s", ["fastop"]);
    await waitFor(() => !isRunning(followed.newPid), 5000, () => "the followed process still runs");
    await new Promise((r) => setTimeout(r, 1000));
    expect(instancesOf(program.path)).toEqual([]);
    expect(await processOf(client, "fastop")).toMatchObject({ pid: 0, state: "stopped" });
  });
});

describe("never a second copy", () => {
  it("a crash while a copy started by hand runs: that copy is adopted instead of starting another", async () => {
    const dir = makeTestDir("nodup");
    const path = uniqueSleep(dir, "nodupalways");
    daemon = await startDaemon(`[settings]\ninterval = 0.2\n\n[process.nodupalways]\ncommand = ["${path}", "600"]\nmatch = ${matchOf(path)}\nrestart = "always"\nautostart = true\n`, { dir });
    const started = await daemon.waitForEvent("started", (e) => e.name === "nodupalways");
    const byHand = spawn(path, ["601"], { detached: true, stdio: "ignore" });
    byHand.unref();
    leftovers.push(byHand.pid!);
    await waitFor(() => instancesOf(path).length === 2, 5000, () => "the copy by hand did not start");
    process.kill(started.pid, "SIGSEGV");
    const adopted = await daemon.waitForEvent("adopted", (e) => e.pid === byHand.pid);
    expect(adopted.message).toContain("instead of starting");
    await new Promise((r) => setTimeout(r, 1000));
    expect(instancesOf(path)).toEqual([byHand.pid]);
    expect(daemon.events().filter((e) => e.kind === "restarted")).toEqual([]);
  });
});
