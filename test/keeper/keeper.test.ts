// The keeper itself (dist/selfheal-keeper, built by npm run build), run on
// real programs: the job it reads, what it reports, the record it keeps, the
// fork it follows, the signals it passes on. Only its own programs are
// signalled.
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, readdirSync, readFileSync, readlinkSync, rmSync, watch } from "node:fs";
import { join, resolve } from "node:path";
import { encodeJob } from "../../daemon/keeper/job.js";
import { parseRecord, type KeeperRecord } from "../../daemon/keeper/record.js";
import { isRunning, killQuietly, makeTestDir, waitFor } from "../helpers/daemon.js";

const KEEPER = resolve(import.meta.dirname, "../../dist/selfheal-keeper");
const PATH_ENV = "PATH=/usr/local/bin:/usr/bin:/bin";
/** Where a keeper writes a record before renaming it into the folder (keeper.c). */
const WRITING_DIR = ".writing";

let dir = "";
const started: number[] = [];

beforeAll(() => {
  if (!existsSync(KEEPER)) throw new Error(`${KEEPER} is missing: npm run build compiles it (it needs a C compiler)`);
});

afterEach(() => {
  killQuietly(started.splice(0));
  if (dir !== "") rmSync(dir, { recursive: true, force: true });
});

interface Run {
  keeper: ChildProcess;
  /** The first line the keeper wrote on stdout. */
  line: string;
  exited: Promise<number | null>;
}

// Start a keeper on `dir` and hand it a job: tag, folder, environment, argv.
async function keep(argv: string[], options: { cwd?: string; env?: string[]; tag?: string; raw?: string; pieces?: "one" | "split" } = {}): Promise<Run> {
  const keeper = spawn(KEEPER, [dir], { stdio: ["pipe", "pipe", "ignore"] });
  const exited = new Promise<number | null>((done) => keeper.once("exit", (code) => done(code)));
  let output = "";
  keeper.stdout!.on("data", (chunk: Buffer) => (output += chunk.toString()));
  const env = options.env ?? [PATH_ENV];
  const job = options.raw ?? encodeJob({ tag: options.tag ?? "test", cwd: options.cwd ?? "/", env, argv });
  if (options.pieces === undefined) keeper.stdin!.end(job);
  else {
    // The job written and stdin left open (the daemon closes it later): whole at once, or in two writes a moment apart.
    const bytes = Buffer.from(job);
    const cut = options.pieces === "split" ? 7 : bytes.length;
    keeper.stdin!.write(bytes.subarray(0, cut));
    if (cut < bytes.length) setTimeout(() => keeper.stdin!.write(bytes.subarray(cut)), 100);
  }
  await waitFor(() => output.includes("\n") || keeper.exitCode !== null, 10_000, () => "the keeper said nothing");
  await waitFor(() => output.includes("\n"), 1000, () => `the keeper exited saying ${JSON.stringify(output)}`).catch(() => undefined);
  const line = output.split("\n")[0] ?? "";
  const pid = Number(line.split(" ")[1]);
  if (line.startsWith("started")) started.push(pid, keeper.pid!);
  return { keeper, line, exited };
}

// What the keepers left in the folder: records, and anything left in the subfolder they write in (named ".writing/NAME").
function records(): string[] {
  const writing = join(dir, WRITING_DIR);
  const left = existsSync(writing) ? readdirSync(writing).map((name) => `${WRITING_DIR}/${name}`) : [];
  return [...readdirSync(dir).filter((name) => name !== WRITING_DIR), ...left];
}

function recordOf(run: Run): KeeperRecord {
  const name = run.line.split(" ")[3]!;
  const record = parseRecord(readFileSync(join(dir, name), "utf8"));
  if (record === null) throw new Error(`unreadable record ${name}`);
  return record;
}

function statFields(pid: number): string[] {
  const stat = readFileSync(`/proc/${pid}/stat`, "latin1");
  return stat.slice(stat.lastIndexOf(")") + 2).split(" ");
}

describe("the keeper", () => {
  it("runs the program with exactly the argv, folder and environment of the job, and reports it", async () => {
    dir = makeTestDir("keeper-job");
    const out = join(dir, "out");
    const script = `printf '%s|' "$PWD" "$FOO" "$HOME" "$@" > ${out}`;
    const run = await keep(["sh", "-c", script, "sh", "two words", "$HOME", "*"], { cwd: "/tmp", env: [PATH_ENV, "FOO=bar baz"] });
    expect(run.line).toMatch(/^started \d+ \d+ \d+-\d+\.keeper$/);
    await waitFor(() => existsSync(out) && readFileSync(out, "utf8").endsWith("|"), 5000, () => "the program did not write");
    expect(readFileSync(out, "utf8")).toBe("/tmp|bar baz||two words|$HOME|*|");
    expect(await run.exited).toBe(0);
    expect(recordOf(run)).toMatchObject({ tag: "test", end: { code: 0, signal: null } });
  });

  it("gives the program no channel to the daemon: what it prints goes nowhere, and cannot pass for the keeper's report", async () => {
    dir = makeTestDir("keeper-quiet");
    for (let i = 0; i < 20; i++) {
      const run = await keep(["sh", "-c", "echo started 1 1 fake.keeper; echo error 2 exec lies >&2; exec sleep 30"]);
      expect(run.line).toMatch(/^started \d+ \d+ \d+-\d+\.keeper$/);
      expect(run.line).not.toContain("fake");
      const pid = Number(run.line.split(" ")[1]);
      // Its standard streams are /dev/null, not the keeper's.
      for (const fd of [0, 1, 2]) expect(readlinkSync(`/proc/${pid}/fd/${fd}`)).toBe("/dev/null");
    }
  });

  it("is the program's parent; the program leads a session of its own and keeps the PID reported", async () => {
    dir = makeTestDir("keeper-parent");
    const run = await keep(["sleep", "30"]);
    const pid = Number(run.line.split(" ")[1]);
    const [, ppid, , sid] = statFields(pid);
    expect(Number(ppid)).toBe(run.keeper.pid);
    expect(Number(sid)).toBe(pid);
    const record = recordOf(run);
    expect(record).toMatchObject({ keeper: { pid: run.keeper.pid }, program: { pid, startTicks: Number(statFields(pid)[19]) }, end: null });
    expect(record.boot).toBe(readFileSync("/proc/sys/kernel/random/boot_id", "utf8").trim());
  });

  it("records the signal that ended the program, then exits; no temporary file is left", async () => {
    dir = makeTestDir("keeper-segv");
    const run = await keep(["sleep", "30"]);
    const pid = Number(run.line.split(" ")[1]);
    process.kill(pid, "SIGSEGV");
    expect(await run.exited).toBe(0);
    const record = recordOf(run);
    expect(record.end).toMatchObject({ code: null, signal: "SIGSEGV" });
    expect(Math.abs(record.end!.atMs - Date.now())).toBeLessThan(60_000);
    expect(records()).toEqual([run.line.split(" ")[3]]);
  });

  it.each(["one", "split"] as const)("starts the program as soon as the job is whole (written in %s), while its stdin is still open", async (pieces) => {
    dir = makeTestDir("keeper-open");
    const run = await keep(["sleep", "30"], { pieces });
    expect(run.line).toMatch(/^started \d+ \d+ \d+-\d+\.keeper$/);
    expect(recordOf(run).end).toBeNull();
    run.keeper.stdin!.end();
  });

  it("reads a job of the earlier format (no length, to the end of stdin), as a daemon running since before an upgrade sends it", async () => {
    dir = makeTestDir("keeper-v1");
    const fields = ["selfheal-job 1", "test", "/", "1", PATH_ENV, "2", "sleep", "30"];
    const run = await keep([], { raw: fields.map((field) => `${field}\0`).join("") });
    expect(run.line).toMatch(/^started \d+ \d+ \d+-\d+\.keeper$/);
    expect(recordOf(run)).toMatchObject({ tag: "test", end: null });
  });

  it("reports a job cut short by the end of stdin", async () => {
    dir = makeTestDir("keeper-short");
    const whole = encodeJob({ tag: "test", cwd: "/", env: [PATH_ENV], argv: ["sleep", "30"] });
    const run = await keep([], { raw: whole.subarray(0, whole.length - 3).toString("latin1") });
    expect(run.line).toMatch(/^error 22 job /);
    expect(await run.exited).toBe(1);
    expect(records()).toEqual([]);
  });

  it("writes each record beside the folder's watch: one who watches the folder sees only the records' own names", async () => {
    dir = makeTestDir("keeper-watch");
    const seen: string[] = [];
    const watcher = watch(dir, (_event, name) => seen.push(String(name)));
    try {
      const run = await keep(["sleep", "30"]);
      process.kill(Number(run.line.split(" ")[1]), "SIGSEGV");
      expect(await run.exited).toBe(0);
      await waitFor(() => seen.filter((name) => name === run.line.split(" ")[3]).length >= 2, 5000, () => `the watcher saw ${JSON.stringify(seen)}`);
      // The start's record and the end's, each a rename into the folder: nothing of the temporary files.
      expect(new Set(seen.filter((name) => name !== WRITING_DIR))).toEqual(new Set([run.line.split(" ")[3]]));
      expect(records()).toEqual([run.line.split(" ")[3]]);
    } finally {
      watcher.close();
    }
  });

  it("passes SIGTERM on to the program", async () => {
    dir = makeTestDir("keeper-term");
    const run = await keep(["sleep", "30"]);
    run.keeper.kill("SIGTERM");
    expect(await run.exited).toBe(0);
    expect(recordOf(run).end).toMatchObject({ signal: "SIGTERM" });
  });

  it("follows a program that forks away and exits 0; the process left is the program, and its end is recorded", async () => {
    dir = makeTestDir("keeper-fork");
    const run = await keep(["sh", "-c", "sleep 30 & exit 0"]);
    const launcher = Number(run.line.split(" ")[1]);
    await waitFor(() => recordOf(run).followedFrom === launcher, 5000, () => `not followed: ${JSON.stringify(recordOf(run))}`);
    const { program } = recordOf(run);
    expect(program.pid).not.toBe(launcher);
    expect(Number(statFields(program.pid)[1])).toBe(run.keeper.pid);
    started.push(program.pid);
    process.kill(program.pid, "SIGABRT");
    expect(await run.exited).toBe(0);
    expect(recordOf(run)).toMatchObject({ program: { pid: program.pid }, followedFrom: launcher, end: { signal: "SIGABRT" } });
  });

  it("does not follow a program that fails: it records the exit code and leaves at once", async () => {
    dir = makeTestDir("keeper-fail");
    const run = await keep(["sh", "-c", "sleep 30 & echo $! > pid; exit 4"], { cwd: "/tmp" });
    expect(await run.exited).toBe(0);
    expect(recordOf(run)).toMatchObject({ followedFrom: null, end: { code: 4 } });
  });

  it.each([
    ["a program that does not exist", ["no-such-program-anywhere"], {}, /^error 2 exec /],
    ["a folder that does not exist", ["true"], { cwd: "/no/such/folder" }, /^error 2 chdir /],
    ["a malformed job", [], { raw: "not a job\0" }, /^error 22 job /],
  ] as const)("reports %s, and writes no record", async (_what, argv, options, expected) => {
    dir = makeTestDir("keeper-error");
    const run = await keep([...argv], options);
    expect(run.line).toMatch(expected);
    expect(await run.exited).toBe(1);
    expect(records()).toEqual([]);
  });

  it("given no job (end of file at once), exits quietly", async () => {
    dir = makeTestDir("keeper-nojob");
    const run = await keep([], { raw: "" });
    expect(run.line).toBe("");
    expect(await run.exited).toBe(0);
    expect(records()).toEqual([]);
  });

  it("killed with SIGKILL, leaves its program running (no PR_SET_PDEATHSIG)", async () => {
    dir = makeTestDir("keeper-killed");
    const run = await keep(["sleep", "30"]);
    const pid = Number(run.line.split(" ")[1]);
    run.keeper.kill("SIGKILL");
    await run.exited;
    await new Promise((r) => setTimeout(r, 200));
    expect(isRunning(pid)).toBe(true);
    expect(recordOf(run).end).toBeNull();
  });
});
