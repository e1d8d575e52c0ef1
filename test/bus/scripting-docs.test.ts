// Every busctl example of the README's Scripting section, run verbatim (through sh, in the
// document's order) against a running daemon whose `gedit` policy watches a
// harmless program of this test's own. The examples clean up zombies and end
// the zombie parent named leaky-app wherever the daemon sees one, so the daemon
// runs in a PID namespace of its own: outside one, it ended another test file's
// leaky-app (and asked every zombie parent of the machine to reap).
import { spawn, type ChildProcess } from "node:child_process";
import { readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import dbus from "dbus-next";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseInterfaceXml } from "../../daemon/bus/introspection.js";
import { FIXTURES, sandboxProblem, startSandbox, type Sandbox } from "../fixtures/sandbox.js";
import {
  connectClient,
  DEFAULT_WAIT_MS,
  FAST_SETTINGS,
  INTERFACE_XML,
  makeTempDir,
  MANAGER_INTERFACE,
  plain,
  REPO,
  run,
  startPrivateBus,
  testProgram,
  waitForProcess,
  waitUntil,
  type BusClient,
  type PrivateBus,
} from "../helpers/bus.js";

const README = join(REPO, "README.md");
const TAG = Math.random().toString(16).slice(2, 6);

// The commands of the ```sh blocks, one per line.
function examples(markdown: string): string[] {
  const blocks = [...markdown.matchAll(/^```sh\n([\s\S]*?)^```$/gm)].map((match) => match[1] ?? "");
  return blocks.flatMap((block) => block.split("\n").filter((line) => line.trim() !== ""));
}

/** What some examples must print (all must exit 0 with nothing on stderr). */
const EXPECTED_OUTPUT: Array<[RegExp, RegExp]> = [
  [/ ListProcesses$/, /^aa\{sv\} 2 /],
  [/GetProcess s gedit$/, /"name" : \{\s*"type" : "s",\s*"data" : "gedit"/],
  [/select\(\.pid\.data == 0\)/, /^backup\n$/],
  [/get-property .* Health$/, /^s "(ok|degraded|critical)"\n$/],
  [/ introspect /, /\.RestartProcess\s+method\s+s\s+-/],
  [/ GetEvents tu 0 10$/, /^aa\{sv\} \d+ /],
  [/ GetPolicies$/, /^a\{sa\{sv\}\} 2 /],
  [/ GetHiddenPolicies$/, /^a\{sa\{sv\}\} 1 "gedit" /],
  [/ CleanupZombies$/, /^uu \d+ \d+\n$/],
  // This namespace has no zombie parent named leaky-app: nothing is ended (test/zombies/endParent.integration.test.ts
  // runs the same line where one is).
  [/ EndZombieParent u$/, /^$/],
];

let bus: PrivateBus;
let client: BusClient;
let sandbox: Sandbox;
let programs: string;
// A leaky-app of this test's own, outside the daemon's namespace: the examples must not reach it.
let outsider: ChildProcess;
// The Scripting section: from its heading to the next one of the same level.
const readme = readFileSync(README, "utf8");
const doc = readme.slice(readme.indexOf("\n## Scripting\n"), readme.indexOf("\n## ", readme.indexOf("\n## Scripting\n") + 1));
const commands = examples(doc);

beforeAll(async () => {
  outsider = spawn("perl", [`${FIXTURES}/zombie-maker.pl`, "2", "120", "leaky-app"], { stdio: "ignore" });
  programs = makeTempDir("doc");
  const program = testProgram(programs, `sbdoc-${TAG}`);
  const idle = testProgram(programs, `sbdoc-id${TAG}`);
  bus = await startPrivateBus();
  sandbox = await startSandbox(
    `${FAST_SETTINGS}
[process.gedit]
command = ["${program}", "600"]
match = "sbdoc-${TAG}"
autostart = true

[process.backup]
command = ["${idle}", "600"]
`,
    "doc",
    { bus },
  );
  client = await connectClient(bus);
  await waitForProcess(client, "gedit", (record) => record.pid > 0);
});

afterAll(async () => {
  outsider?.kill("SIGKILL");
  client?.close();
  await sandbox?.close();
  await bus?.stop();
  if (programs) rmSync(programs, { recursive: true, force: true });
});

describe.skipIf(sandboxProblem() !== null)("the README's Scripting section", () => {
  it("has busctl examples covering every method of the interface", () => {
    const spec = parseInterfaceXml(readFileSync(INTERFACE_XML, "utf8"), MANAGER_INTERFACE);
    expect(commands.length).toBeGreaterThan(10);
    for (const command of commands) expect(command).toMatch(/^busctl --user /);
    for (const method of spec.methods.keys()) expect(commands.some((command) => command.includes(` ${method}`)), method).toBe(true);
  });

  it("every example runs as written", async () => {
    for (const command of commands) {
      if (command.includes(" monitor ")) continue;
      // CleanupZombies ends no process while [zombies] kill_parents is off (the default): it only sends SIGCHLD.
      const result = await run("sh", ["-c", command], bus.env);
      expect({ command, code: result.code, stderr: result.stderr }).toEqual({ command, code: 0, stderr: "" });
      for (const [which, output] of EXPECTED_OUTPUT) if (which.test(command)) expect(result.stdout, command).toMatch(output);
    }
    // The examples' edits took effect: gedit was removed last.
    const [policies] = await client.call("GetPolicies");
    expect(Object.keys(plain(policies) as object)).toEqual(["backup"]);
    // The leaky-app outside the daemon's namespace was not ended.
    expect({ exitCode: outsider.exitCode, signalCode: outsider.signalCode }).toEqual({ exitCode: null, signalCode: null });
  });

  it("the monitor example shows the signals as they come", async () => {
    const command = commands.find((line) => line.includes(" monitor "));
    expect(command).toBeDefined();
    const monitor = spawn("sh", ["-c", command!], { env: bus.env, detached: true, stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    monitor.stdout!.on("data", (chunk: Buffer) => (output += chunk.toString()));
    monitor.stderr!.on("data", (chunk: Buffer) => (output += chunk.toString()));
    try {
      await waitUntil(() => output.includes("Monitoring bus message stream"), DEFAULT_WAIT_MS, () => `busctl monitor did not start: ${output}`);
      await client.call("SetPolicy", "sa{sv}", ["probe", { command: new dbus.Variant("as", ["/bin/true"]) }]);
      await waitUntil(() => output.includes("Member=EventLogged") && output.includes("Member=PropertiesChanged"), DEFAULT_WAIT_MS, () => `no signals in:\n${output}`);
      expect(output).toContain("Interface=io.github.SelfHeal1.Manager");
    } finally {
      process.kill(-monitor.pid!, "SIGINT");
    }
  });
});
