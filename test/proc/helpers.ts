// Test helpers: a crafted /proc tree on disk, and real child processes that are always cleaned up.

import type { ChildProcess, SpawnOptions } from "node:child_process";
import type { ProcessSample, ProcessSnapshot, ProcessSource } from "../../daemon/proc/types.js";
import { spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

/** What a crafted /proc/<pid> holds; omitted stat fields get plausible values. */
export interface FakeProcess {
  pid: number;
  comm: string;
  state?: string;
  ppid?: number;
  pgrp?: number;
  session?: number;
  /** The controlling terminal's device number (tty_nr); 0 for none. */
  tty?: number;
  flags?: number;
  utime?: number;
  stime?: number;
  threads?: number;
  startTicks?: number;
  rssPages?: number;
  cmdline?: string[];
  /** Target of the exe link, as the kernel would show it. */
  exeTarget?: string;
}

/** Fields of /proc/<pid>/stat after the last one the scanner reads, as on a real system. */
const TRAILING_STAT_FIELDS = "18446744073709551615 1 1 0 0 0 0 0 4096 1256 0 0 0 17 0 0 0 0 0 0 0 0 0 0 0 0 0 0";

// One stat line in the kernel's format.
export function statLine(p: FakeProcess): string {
  const fields = [
    p.pid, `(${p.comm})`, p.state ?? "S", p.ppid ?? 1, p.pgrp ?? p.pid, p.session ?? p.pid,
    p.tty ?? 0, -1, p.flags ?? 4194560, 10, 0, 0, 0, p.utime ?? 0, p.stime ?? 0, 0, 0, 20, 0,
    p.threads ?? 1, 0, p.startTicks ?? 1000, 123456789, p.rssPages ?? 100,
  ];
  return `${fields.join(" ")} ${TRAILING_STAT_FIELDS}\n`;
}

/** A /proc lookalike in a temp directory. */
export class FakeProcRoot {
  readonly root = fs.mkdtempSync(path.join(os.tmpdir(), "selfheal-fakeproc-"));

  // Writes <root>/stat with the given boot time in seconds since the epoch.
  constructor(private readonly bootTimeSeconds: number) {
    fs.writeFileSync(path.join(this.root, "stat"), `cpu  1 2 3 4\nintr 0\nbtime ${bootTimeSeconds}\nprocesses 9\n`);
  }

  // Creates or rewrites /proc/<pid>.
  write(p: FakeProcess): void {
    const dir = path.join(this.root, String(p.pid));
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, "stat"), statLine(p));
    if (p.cmdline !== undefined) fs.writeFileSync(path.join(dir, "cmdline"), p.cmdline.map((a) => `${a}\0`).join(""));
    if (p.exeTarget !== undefined) {
      fs.rmSync(path.join(dir, "exe"), { force: true });
      fs.symlinkSync(p.exeTarget, path.join(dir, "exe"));
    }
  }

  // The PID cursor's files: the last PID handed out (loadavg's last field), the forks since boot
  // (stat's `processes`), pid_max, and `self` naming this process (the table numbers PIDs as we do).
  setLastPid(lastPid: number, forksSinceBoot = 9, pidMax = 32768): void {
    fs.writeFileSync(path.join(this.root, "loadavg"), `0.10 0.20 0.30 1/200 ${lastPid}\n`);
    fs.writeFileSync(path.join(this.root, "stat"), `cpu  1 2 3 4\nintr 0\nbtime ${this.bootTimeSeconds}\nprocesses ${forksSinceBoot}\n`);
    fs.mkdirSync(path.join(this.root, "sys", "kernel"), { recursive: true });
    fs.writeFileSync(path.join(this.root, "sys", "kernel", "pid_max"), `${pidMax}\n`);
    fs.rmSync(path.join(this.root, "self"), { recursive: true, force: true });
    fs.symlinkSync(String(process.pid), path.join(this.root, "self"));
  }

  // Removes /proc/<pid> as if the process ended.
  remove(pid: number): void {
    fs.rmSync(path.join(this.root, String(pid)), { recursive: true, force: true });
  }

  // Deletes the whole tree.
  dispose(): void {
    fs.rmSync(this.root, { recursive: true, force: true });
  }
}

/** Real children started by a test; killAll() ends every one still running. */
export class Children {
  private readonly started: ChildProcess[] = [];

  // Spawns a child and remembers it for cleanup.
  spawn(command: string, args: string[], options: SpawnOptions = {}): ChildProcess & { pid: number } {
    const child = spawn(command, args, { stdio: ["pipe", "pipe", "inherit"], ...options });
    if (child.pid === undefined) throw new Error(`could not spawn ${command}`);
    this.started.push(child);
    return child as ChildProcess & { pid: number };
  }

  // Kills every child still running and waits for it to be reaped.
  async killAll(): Promise<void> {
    await Promise.all(
      this.started.map(async (child) => {
        if (child.exitCode !== null || child.signalCode !== null) return;
        const exited = new Promise((resolve) => child.once("exit", resolve));
        child.kill("SIGKILL");
        await exited;
      }),
    );
    this.started.length = 0;
  }
}

// Resolves with the first line a child writes to stdout that contains text.
export function waitForOutput(child: ChildProcess, text: string): Promise<void> {
  return new Promise((resolve, reject) => {
    let seen = "";
    child.stdout?.on("data", (chunk: Buffer) => {
      seen += chunk.toString();
      if (seen.includes(text)) resolve();
    });
    child.once("exit", (code) => reject(new Error(`child exited (${code}) before printing ${text}; printed ${seen}`)));
  });
}

// Scans until pred holds for the process (e.g. once exec has set its comm); throws after timeoutMs.
export async function scanUntil(
  source: ProcessSource,
  pid: number,
  pred: (sample: ProcessSample, snapshot: ProcessSnapshot) => boolean,
  timeoutMs = 5000,
): Promise<{ sample: ProcessSample; snapshot: ProcessSnapshot }> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const snapshot = source.scan();
    const sample = snapshot.processes.get(pid);
    if (sample !== undefined && pred(sample, snapshot)) return { sample, snapshot };
    if (Date.now() > deadline) throw new Error(`pid ${pid} never satisfied the condition; last: ${JSON.stringify(sample)}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

// Copies /bin/sleep into a fresh temp dir under the given file name and returns its path.
export function sleepCopy(name: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "selfheal-exe-"));
  const file = path.join(dir, name);
  fs.copyFileSync("/bin/sleep", file);
  fs.chmodSync(file, 0o755);
  return file;
}

// A synthetic snapshot over the given samples, with its children index.
export function snapshotOf(samples: ProcessSample[], timeMs = 0): ProcessSnapshot {
  const processes = new Map(samples.map((s) => [s.pid, s]));
  const children = new Map<number, number[]>();
  for (const s of samples) children.set(s.ppid, [...(children.get(s.ppid) ?? []), s.pid]);
  return { timeMs, processes, childrenOf: (pid) => children.get(pid) ?? [] };
}

// A synthetic sample with plausible defaults.
export function sample(fields: Partial<ProcessSample> & { pid: number }): ProcessSample {
  return {
    ppid: 1, uid: 1000, state: "S", comm: "proc", pgid: fields.pid, sid: fields.pid, ttyNr: 0, startTicks: 1000,
    startTimeMs: 0, cpuTicks: 0, cpuPercent: 0, rssBytes: 0, threads: 1, kernelThread: false,
    ...fields,
  };
}
