// A policy whose /regex/ backtracks catastrophically, tested on every scan
// against a running process's command line, must not hold the daemon up: it
// keeps answering and restarts another program's crash. A backtracking engine
// needs about 2^60 steps for /(a+)+$/ on this line, so without linear-time
// matching the daemon never finishes its first scan. (The latency figures with
// such a pattern present are in `npm run bench`; nothing is timed here.)
import { spawn } from "node:child_process";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FAST_SETTINGS, plain, processOf, startScene, testProgram, waitForProcess, type BusClient, type Scene } from "../helpers/bus.js";

const TAG = Math.random().toString(16).slice(2, 6);
/** A program whose command line ends in 60 a's and a "!": the worst case for /(a+)+$/. */
const LONG_NAME = `sbpat-${TAG}-${"a".repeat(60)}!`;
let client: BusClient;
let close: Scene["close"];

beforeAll(async () => {
  ({ client, close } = await startScene({
    prefix: "pat",
    programs: { crashy: `sbpat-cr${TAG}` },
    prepare(dir) {
      spawn(testProgram(dir, LONG_NAME), ["600"], { stdio: "ignore", detached: true }).unref();
    },
    config: ({ crashy }) => `${FAST_SETTINGS}
[process.crashy]
command = ["${crashy}", "600"]
autostart = true

# Never running, so tested against every command line on every scan.
[process.patho]
command = ["/nonexistent/patho"]
match = "/sbpat-${TAG}-(a+)+$/"
`,
  }));
});

afterAll(() => close?.());

describe("a pathological pattern beside a crash", () => {
  it("the daemon answers, matches nothing with it, and restarts another program's crash", async () => {
    const { pid } = await waitForProcess(client, "crashy", (record) => record.pid > 0);
    const [records] = await client.call("ListProcesses");
    expect((plain(records) as Array<{ name: string; pid: number }>).find((record) => record.name === "patho")?.pid).toBe(0);
    process.kill(pid, "SIGSEGV");
    const restarted = await client.signals.waitFor("ProcessRestarted", ([name, oldPid]) => name === "crashy" && oldPid === pid);
    expect((await processOf(client, "crashy")).pid).toBe(plain(restarted.args[2]));
    expect((await processOf(client, "patho")).state).toBe("stopped");
  });
});
