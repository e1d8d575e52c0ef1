// Short-lived zombies are not announced: a zombie is told (event, ZombiesDetected
// signal, notification) only once it has lasted [zombies] min_age, so a parent
// about to reap its child (an install script's own) raises no false alarm, not
// even as the first event of a fresh daemon. The bus and the daemon run in a
// PID namespace of their own; the zombie makers are real processes.
import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startBusSandbox, type BusSandbox } from "../fixtures/busSandbox.js";
import { FIXTURES, sandboxProblem, sleep, waitUntil } from "../fixtures/sandbox.js";
import { connectClient, plain, waitUntil as waitFor, type BusClient } from "../helpers/bus.js";

const problem = sandboxProblem();
const MAKER = `${FIXTURES}/zombie-maker.pl`;
const MIN_AGE_SEC = 4;
let box: BusSandbox;
let client: BusClient;

beforeAll(async () => {
  if (problem !== null) return;
  box = await startBusSandbox({ prefix: "zannounce", config: `[settings]\ninterval = 0.2\n\n[zombies]\nmin_age = ${MIN_AGE_SEC}\n` });
});

afterAll(async () => {
  client?.close();
  await box?.close();
});

// The zombies in the namespace now, by their parent's name.
function zombiesOf(parent: string): number {
  const all = box.processes();
  return all.filter((p) => p.state === "Z" && all.find((q) => q.pid === p.ppid)?.comm === parent).length;
}

// Have a --reap-on-sigchld maker reap its zombies: SIGCHLD (sent inside the namespace) until they are gone.
async function reap(parent: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (zombiesOf(parent) > 0) {
    if (Date.now() > deadline) throw new Error(`${parent} did not reap its zombies`);
    const pid = box.processes().find((p) => p.comm === parent)?.nsPid;
    if (pid !== undefined) box.run(`kill -CHLD ${pid}`);
    await sleep(300);
  }
}

// True once the daemon lists a zombie of this parent (its scan has seen it).
async function daemonSees(parent: string): Promise<boolean> {
  const [zombies] = await client.call("ListZombies");
  return (plain(zombies) as Array<{ parent_name: string }>).some((zombie) => zombie.parent_name === parent);
}

describe.skipIf(problem !== null)("zombies are announced once they have lasted min_age", () => {
  it("an installer's zombies, reaped at once, are not the first event of a fresh daemon; nor is a later short-lived one", async () => {
    // Their parent reaps them once asked (SIGCHLD). Between the daemon's first sight of them and
    // the reaping, only quick steps: min_age is the whole margin (a command line started there took
    // over 2 s on a machine loaded past its cores).
    client = await connectClient(box.bus);
    box.run(`exec perl ${MAKER} 2 60 installer --reap-on-sigchld`);
    await waitUntil(() => zombiesOf("installer") === 2, 10_000, () => "the installer made no zombies");
    // The daemon's scan saw them (a daemon that never saw them would prove nothing).
    await waitFor(() => daemonSees("installer"), 10_000, () => "the daemon did not see the installer's zombies");
    await reap("installer");
    box.run(`exec perl ${MAKER} 1 60 short-lived --reap-on-sigchld`);
    await waitFor(() => daemonSees("short-lived"), 10_000, () => "the daemon did not see the short-lived zombie");
    await reap("short-lived");
    // Past min_age since both were first seen: nothing was announced.
    await sleep(MIN_AGE_SEC * 1000 + 500);
    expect(box.events().filter((event) => event.kind === "zombies-detected")).toEqual([]);
    expect(client.signals.received.filter((signal) => signal.member === "ZombiesDetected")).toEqual([]);
  });

  it("a zombie that stays is announced once, after min_age", async () => {
    const onsetFile = `${box.dir}/onset`;
    box.run(`SELFHEAL_FIXTURE_ONSET=${onsetFile} exec perl ${MAKER} 1 30 lasting`);
    const detected = await box.waitForEvent("zombies-detected", (event) => event.message.includes("parent lasting "), 15_000);
    const onset = Number(readFileSync(onsetFile, "utf8"));
    expect(detected.timeMs - onset).toBeGreaterThanOrEqual(MIN_AGE_SEC * 1000);
    expect(detected.message).toMatch(/parent lasting \d+/);
    expect(detected.newPids).toHaveLength(1);
    await client.signals.waitFor("ZombiesDetected");
    await sleep(1000);
    expect(box.events().filter((event) => event.kind === "zombies-detected")).toHaveLength(1);
    expect(client.signals.received.filter((signal) => signal.member === "ZombiesDetected")).toHaveLength(1);
  });
});
