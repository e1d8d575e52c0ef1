// Stand-ins for the engine's inputs in unit tests: a clock that moves only
// when told, a synthetic process table, a spawner whose children exit on
// command, and a signaller that records. Integration tests use the real ones.
import type { Clock, Timer } from "../../daemon/engine/clock.js";
import type { CooldownStore, Signaller } from "../../daemon/engine/engine.js";
import type { CooldownState } from "../../daemon/cooldown/tracker.js";
import type { ProcessProbe } from "../../daemon/proc/probe.js";
import type { ProcessSample, ProcessSnapshot, ProcessSource } from "../../daemon/proc/types.js";
import type { ChildHandle, ExitListener, RecoveredChild, Spawner } from "../../daemon/supervise/spawner.js";
import type { ExitDetails } from "../../daemon/supervise/exit.js";
import type { Policy } from "../../daemon/config/policy.js";
import type { UnitView } from "../../daemon/engine/unit.js";
import { parseConfig } from "../../daemon/config/load.js";
import { ProtectedError } from "../../daemon/safety/guard.js";

export class FakeClock implements Clock {
  private timers: Array<{ at: number; fn: () => void; cancelled: boolean }> = [];
  constructor(public time = 1_700_000_000_000) {}

  now(): number {
    return this.time;
  }

  setTimeout(fn: () => void, ms: number): Timer {
    const timer = { at: this.time + ms, fn, cancelled: false };
    this.timers.push(timer);
    return { cancel: () => (timer.cancelled = true) };
  }

  // A repeating timer: each firing arms the next, as long as it is not cancelled.
  setInterval(fn: () => void, ms: number): Timer {
    let cancelled = false;
    let next: Timer | null = null;
    const arm = (): void => {
      next = this.setTimeout(() => {
        if (cancelled) return;
        arm();
        fn();
      }, ms);
    };
    arm();
    return {
      cancel: () => {
        cancelled = true;
        next?.cancel();
      },
    };
  }

  // Move time forward, firing due timers in order (timers set by timers fire too when due).
  advance(ms: number): void {
    const end = this.time + ms;
    for (;;) {
      const due = this.timers.filter((t) => !t.cancelled && t.at <= end).sort((a, b) => a.at - b.at)[0];
      if (!due) break;
      due.cancelled = true;
      this.time = Math.max(this.time, due.at);
      due.fn();
    }
    this.time = end;
    this.timers = this.timers.filter((t) => !t.cancelled);
  }
}

export function sample(pid: number, fields: Partial<ProcessSample> = {}): ProcessSample {
  return {
    pid,
    ppid: 1,
    uid: 1000,
    state: "S",
    comm: `proc${pid}`,
    pgid: pid,
    sid: pid,
    ttyNr: 0,
    startTicks: pid * 10,
    startTimeMs: 1_700_000_000_000,
    cpuTicks: 0,
    cpuPercent: 0,
    rssBytes: 10 * 1024 * 1024,
    threads: 1,
    kernelThread: false,
    ...fields,
  };
}

/**
 * The daemon's own PID in a fake table: above the kernel's largest PID (2^22), so it is
 * neither a test's fake process nor the test runner's real PID (which a fake table's
 * numbers would otherwise meet now and then, PIDs wrapping at 32768 on many machines).
 */
export const FAKE_SELF_PID = 4_194_305;

export class FakeSource implements ProcessSource {
  readonly selfPid = FAKE_SELF_PID;
  processes = new Map<number, ProcessSample>();
  cmdlines = new Map<number, string[]>();
  constructor(private readonly clock: FakeClock) {}

  set(...samples: ProcessSample[]): void {
    for (const s of samples) this.processes.set(s.pid, s);
  }

  remove(pid: number): void {
    this.processes.delete(pid);
  }

  /** The focus each scan was given (the PIDs whose trees it must read afresh). */
  focuses: Array<number[] | undefined> = [];

  scan(focus?: ReadonlySet<number>): ProcessSnapshot {
    this.focuses.push(focus === undefined ? undefined : [...focus].sort((a, b) => a - b));
    const processes = new Map(this.processes);
    return {
      timeMs: this.clock.now(),
      processes,
      childrenOf: (pid) => [...processes.values()].filter((p) => p.ppid === pid).map((p) => p.pid),
    };
  }

  readCmdline(pid: number): string[] | null {
    return this.cmdlines.get(pid) ?? null;
  }

  readExeName(_pid: number): string | null {
    return null;
  }
}

export class FakeChild implements ChildHandle {
  private listener: ExitListener | null = null;
  private followListener: ((pid: number, startTicks: number, fromPid: number) => void) | null = null;
  private lostListener: ((reason: string) => void) | null = null;
  released = false;
  checks = 0;
  /** `keeperPid`: the child stands for a program held by a keeper (it follows forks, it can be lost). */
  constructor(
    public pid: number,
    readonly keeperPid?: number,
    public startTicks?: number,
  ) {}

  onExit(listener: ExitListener): void {
    this.listener = listener;
  }

  onFollow(listener: (pid: number, startTicks: number, fromPid: number) => void): void {
    this.followListener = listener;
  }

  onLost(listener: (reason: string) => void): void {
    this.lostListener = listener;
  }

  check(): void {
    this.checks += 1;
  }

  release(): void {
    this.released = true;
  }

  exit(code: number | null, signal: string | null = null, details?: ExitDetails): void {
    this.listener?.(code, signal, details);
  }

  // The keeper followed a fork: `pid` is the program now.
  follow(pid: number, startTicks: number): void {
    const from = this.pid;
    this.pid = pid;
    this.startTicks = startTicks;
    this.followListener?.(pid, startTicks, from);
  }

  lose(reason: string): void {
    this.lostListener?.(reason);
  }
}

/** The fake keepers' records folder: a keeper's first argument. */
export const FAKE_RECORDS_FOLDER = "/run/user/1000/selfheal";

/** A fake keeper's PID: its program's plus this. */
export const KEEPER_PID_OFFSET = 10_000;

/** A spawner whose children appear in the fake process table and exit when told. */
export class FakeSpawner implements Spawner {
  children: FakeChild[] = [];
  failNext: string | null = null;
  /** What recover() hands back (the programs "an earlier daemon" started); taken once. */
  recovered: RecoveredChild[] = [];
  /** Children stand for programs held by a keeper (keeperPid set: they follow forks and can be lost). */
  withKeepers = false;

  /** Where this daemon's keepers would keep their records (with keepers only). */
  get recordsFolder(): string | undefined {
    return this.withKeepers ? FAKE_RECORDS_FOLDER : undefined;
  }
  private nextPid = 5000;
  constructor(
    private readonly source: FakeSource,
    private readonly uid = 1000,
  ) {}

  async spawn(policy: Policy): Promise<ChildHandle> {
    if (this.failNext !== null) {
      const message = this.failNext;
      this.failNext = null;
      throw new Error(message);
    }
    const pid = this.nextPid++;
    this.source.set(sample(pid, { comm: policy.name, uid: this.uid }));
    const child = new FakeChild(pid, this.withKeepers ? pid + KEEPER_PID_OFFSET : undefined);
    this.children.push(child);
    return child;
  }

  recover(names: ReadonlySet<string>): RecoveredChild[] {
    const found = this.recovered.filter((child) => names.has(child.name));
    this.recovered = this.recovered.filter((child) => !names.has(child.name));
    return found;
  }

  get last(): FakeChild {
    const child = this.children.at(-1);
    if (!child) throw new Error("nothing was spawned");
    return child;
  }

  // End the newest child as the kernel would report it, and remove it from the table.
  crashLast(code: number | null, signal: string | null = null): FakeChild {
    const child = this.last;
    this.source.remove(child.pid);
    child.exit(code, signal);
    return child;
  }
}

export class RecordingSignaller implements Signaller {
  sent: Array<[number, string]> = [];
  /** pids whose signal is refused (as the guard refuses what it protects, judged at the moment of the signal). */
  refuse = new Set<number>();
  /** pid → why the guard protects it: refused both in scans (refusalFor) and at the signal. */
  protect = new Map<number, string>();
  /** Called for each signal, e.g. to end a fake child. */
  onSignal: (pid: number, signal: string) => void = () => {};
  /** A group signal (as the guard's killGroup), when a test gives one; without it, every member is signalled alone. */
  killGroup?: Signaller["killGroup"];

  kill(pid: number, signal: NodeJS.Signals): void {
    const reason = this.protect.get(pid) ?? (this.refuse.has(pid) ? "protected" : undefined);
    if (reason !== undefined) throw new ProtectedError(pid, reason);
    this.sent.push([pid, signal]);
    this.onSignal(pid, signal);
  }

  refusalFor(target: ProcessSample): string | null {
    return this.protect.get(target.pid) ?? null;
  }
}

export class MemoryCooldownStore implements CooldownStore {
  saved: CooldownState = {};
  constructor(private initial: CooldownState = {}) {}
  load(): CooldownState {
    return this.initial;
  }
  save(state: CooldownState): void {
    this.saved = JSON.parse(JSON.stringify(state)) as CooldownState;
  }
  saveSync(state: CooldownState): void {
    this.save(state);
  }
}

export class FakeProbe implements ProcessProbe {
  constructor(private readonly source: FakeSource) {}
  rssBytes(pid: number): number | null {
    return this.source.processes.get(pid)?.rssBytes ?? null;
  }
  isAlive(pid: number, startTicks: number): boolean {
    const s = this.source.processes.get(pid);
    return s !== undefined && s.startTicks === startTicks && s.state !== "Z";
  }
  exists(pid: number): boolean {
    return this.source.processes.has(pid);
  }
}

/** A policy with the schema's defaults (as an empty [process.NAME] table gets them), changed by `fields`. */
export function policy(name: string, fields: Partial<Policy> = {}): Policy {
  const defaults = parseConfig(`[process.${name}]\n`, "test.toml").policies.get(name);
  if (!defaults) throw new Error(`no policy named ${name}`);
  return { ...defaults, ...fields };
}

/** A unit's view as the engine shows it: a stopped, unmanaged program with no figures, changed by `fields`. */
export function unitView(name: string, fields: Partial<UnitView> = {}): UnitView {
  return {
    name,
    pid: 0,
    startTicks: -1,
    state: "stopped",
    cpuPercent: 0,
    rssBytes: 0,
    cpuLimit: null,
    memoryLimitBytes: null,
    restarts: 0,
    cooldownRemainingSec: 0,
    cooldownUntilMs: 0,
    restartsInWindow: 0,
    managed: false,
    startedAtMs: 0,
    protectedMatch: "",
    ...fields,
  };
}

/** Let pending promise continuations (the spawner's) run. */
export async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await Promise.resolve();
}
