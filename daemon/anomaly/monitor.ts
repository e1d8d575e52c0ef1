// Runs the anomaly detectors on every scan the engine takes: for each running
// policy its fork-bomb, leak and CPU-spike checks with the policy's thresholds,
// and, when [anomaly] watch_all is on, the leak and fork-bomb checks on every
// other process of the user. Findings become `anomaly` events; actions go
// through the engine (restart, kill) or, for a fork bomb, through containment.
import type { AnomalyAction, AnomalySettings, ForkBombSettings, Policy } from "../config/policy.js";
import type { Engine, Guard, UnitView } from "../engine/engine.js";
import type { AnomalyType } from "../engine/events.js";
import type { PeekFresh, ProcessSample, ProcessSnapshot } from "../proc/types.js";
import type { ContainResult, ContainTarget, HeldGroup } from "./contain.js";
import { performance } from "node:perf_hooks";
import { setTimeout as sleep } from "node:timers/promises";
import { descendantsOf, treeTotals } from "../proc/tree.js";
import { containTree, holdGroup, releaseGroup } from "./contain.js";
import { CpuSpikeDetector, type CpuSpikeVerdict } from "./cpuSpike.js";
import { collectMembers, ForkBombDetector, youngBySession, YOUNG_MS, type ForkBombVerdict, type Members } from "./forkBomb.js";
import { LeakDetector, type LeakVerdict } from "./leak.js";
import { anomalySettingsOf, effectiveSettings, type EffectiveAnomalySettings } from "./settings.js";

export interface AnomalyMonitorDeps {
  /** Every signal of a containment goes through it (the SignalGuard); what it protects is never a member of a tree. */
  signaller: Guard;
  /** A fresh scan of the process table, for containment. */
  rescan(): ProcessSnapshot;
  /**
   * The table now, cheaply (the last scan's samples, a fresh read of new PIDs
   * only: ProcessSource.peek): the first look after a surge of forks. Without
   * it, every such look is a full rescan.
   */
  peek?(fresh: PeekFresh): ProcessSnapshot;
  sleep?(ms: number): Promise<void>;
  /** Monotonic ms, for durations. */
  now?(): number;
  /** Whose processes the global watch follows; defaults to the daemon's uid. */
  uid?: number;
}

const ACTION_WORDS: Record<AnomalyAction, string> = { notify: "notified", restart: "restarting", kill: "killing" };
const SEC_PER_MIN = 60;

export class AnomalyMonitor {
  private readonly leaks = new LeakDetector();
  private readonly spikes = new CpuSpikeDetector();
  private readonly bombs = new ForkBombDetector();
  /** Policy names and global-watch sessions being contained now: not judged meanwhile. */
  private readonly containing = new Set<string>();
  private readonly inFlight = new Set<Promise<void>>();
  private readonly uid: number;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly now: () => number;
  /** Forks of the surges heard since the last look at the table (scan or surge look). */
  private forksSinceLook = 0;
  /**
   * The fewest new members that would take a watched tree (or a new session, under the
   * global watch) past max_descendants, as of the last look: fewer forks than this since
   * then cannot have made a bomb, so a surge below it (another program's build) costs no look.
   */
  private headroom = Number.POSITIVE_INFINITY;
  /** When the current look at the table began (this.now()): a containment's durations count from it. */
  private lookStartedMs = 0;
  /** When the current look's full scan began (this.now()): a snapshot's time is its scan's start. */
  private scanStartedMs = 0;
  /** Each policy's thresholds with the section they were made from (settingsOf). */
  private readonly settingsCache = new WeakMap<Policy, { section: AnomalySettings; settings: EffectiveAnomalySettings }>();
  /** What the last scan's checks cost, ms (for the benchmark). */
  lastCostMs = 0;

  constructor(
    private readonly engine: Engine,
    private readonly deps: AnomalyMonitorDeps,
  ) {
    this.uid = deps.uid ?? process.getuid?.() ?? 0;
    this.sleep = deps.sleep ?? ((ms) => sleep(ms));
    this.now = deps.now ?? (() => performance.now());
    engine.onScan((snapshot, views) => this.observe(snapshot, views));
    engine.onForkSurge((forks) => this.onSurge(forks));
  }

  // What the guard protects is never counted in a tree nor reached by a containment.
  private readonly protects = (sample: ProcessSample): string | null => this.deps.signaller.refusalFor(sample);

  // Resolves once every containment under way has finished (tests, shutdown).
  async idle(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.all([...this.inFlight]);
  }

  // Run every check on one scan (`views`: the units as the scan left them).
  observe(snapshot: ProcessSnapshot, views: readonly UnitView[] = this.engine.list()): void {
    const started = performance.now();
    const config = this.engine.activeConfig;
    const section = anomalySettingsOf(config);
    this.beginLook(section);
    /** Processes in policies' trees: the global watch leaves them to their policy (so only gathered under it). */
    const watched = section.watchAll ? new Set<number>() : null;
    for (const view of views) {
      if (view.pid === 0) continue;
      this.observeUnit(view, config.policies.get(view.name), snapshot, section, watched);
    }
    if (watched !== null) this.watchAll(snapshot, section, watched);
    this.leaks.forgetUnseenSince(snapshot.timeMs);
    this.spikes.forgetUnseenSince(snapshot.timeMs);
    this.bombs.forgetUnseenSince(snapshot.timeMs);
    this.lastCostMs = performance.now() - started;
  }

  // A surge of forks between scans: enough of them since the last look to take some tree past its limit?
  private onSurge(forks: number): void {
    this.forksSinceLook += forks;
    // The headroom of the trees judged first: past it, the whole headroom need not be worked out.
    if (this.forksSinceLook >= this.headroom || this.forksSinceLook >= this.fullHeadroom()) this.lookAfterSurge();
  }

  // The headroom of a tree not judged yet (a program started since the last look, a new session): its whole max_descendants.
  private fullHeadroom(): number {
    const config = this.engine.activeConfig;
    const section = anomalySettingsOf(config);
    let least = section.watchAll && section.forkBomb.enabled ? section.forkBomb.maxDescendants : Number.POSITIVE_INFINITY;
    for (const view of this.engine.list()) {
      if (view.pid === 0) continue;
      const policy = config.policies.get(view.name);
      const settings = policy === undefined ? section.forkBomb : this.settingsOf(section, policy).forkBomb;
      if (settings.enabled) least = Math.min(least, settings.maxDescendants);
    }
    return least;
  }

  // A look at the table starts: no forks counted since; the headroom is learnt anew from the trees judged.
  private beginLook(section: AnomalySettings): void {
    this.lookStartedMs = this.now();
    // A scan's checks run on a snapshot taken before them; a look after a surge sets it when it scans.
    this.scanStartedMs = this.lookStartedMs;
    this.forksSinceLook = 0;
    this.headroom = section.watchAll && section.forkBomb.enabled ? section.forkBomb.maxDescendants : Number.POSITIVE_INFINITY;
  }

  // A tree of `size` members judged against `settings`: how many more would make it a bomb.
  private noteTree(size: number, settings: ForkBombSettings): void {
    this.headroom = Math.max(1, Math.min(this.headroom, settings.maxDescendants - size));
  }

  // A surge of forks between scans: a fresh look at the process table for fork
  // bombs alone, judged by their descendant counts (the rate is left to the scans).
  lookAfterSurge(): void {
    const config = this.engine.activeConfig;
    const section = anomalySettingsOf(config);
    this.beginLook(section);
    const running = this.engine.list().filter((view) => view.pid !== 0);
    const checked = running.flatMap((view) => {
      const policy = config.policies.get(view.name);
      if (policy === undefined) return [];
      const settings = this.settingsOf(section, policy).forkBomb;
      return settings.enabled && !this.containing.has(view.name) ? [{ view, settings }] : [];
    });
    const global = section.watchAll && section.forkBomb.enabled;
    if (checked.length === 0 && !global) return;
    // Most surges are other programs' (a build): a peek, which reads only the new PIDs,
    // shows that no tree is near its limit; only a tree that may be one is judged on a full scan.
    // The programs' own processes are read afresh: their sessions and groups say who is a member.
    // Every process a group stop on that peek could reach is read now, since the guard judges it on what
    // the peek read: all that is new since the last scan, and the programs' sessions (a process joins a
    // session only by being forked into it).
    const roots = new Set(running.map((view) => view.pid));
    const glance = this.deps.peek?.({ newAnd: roots });
    let held = new Map<string, Held>();
    let snapshot: ProcessSnapshot | undefined;
    try {
      if (glance !== undefined) {
        const look = this.mayHoldBomb(glance, running, checked, global, section);
        if (!look.may) return;
        held = this.holdAtLimit(glance, look.atLimit);
        const contained = this.containOnGlance(glance, look.atLimit, held, roots);
        // Nothing left for a full look to judge: every tree at its limit is being contained.
        if (!global && look.over === contained) return;
      }
      this.scanStartedMs = this.now();
      snapshot = this.deps.rescan();
      this.judgeAfterSurge(snapshot, running, checked, global, section, held);
    } finally {
      // A tree held on the peek that the full look did not find a bomb runs again (or, without that look, as the peek saw it).
      for (const { group } of held.values()) releaseGroup(this.deps.signaller, snapshot ?? glance!, group);
    }
  }

  // A held tree that the peek counts past its limit on members it read now (not carried over from an
  // earlier read, which might have ended since) is a bomb without a full look: it is contained at once,
  // from a second peek taken after the stop (the look after it, for members outside the group), which
  // reads only what was forked since the first and the programs' own processes (what the first read
  // it carries over). How many trees were contained.
  private containOnGlance(glance: ProcessSnapshot, atLimit: readonly AtLimit[], held: Map<string, Held>, roots: ReadonlySet<number>): number {
    let contained = 0;
    let after: ProcessSnapshot | undefined;
    for (const { view, settings, members } of atLimit) {
      const hold = held.get(view.name);
      if (hold === undefined || readNowCount(glance, members) < settings.maxDescendants) continue;
      const sample = glance.processes.get(view.pid)!;
      const key = `${view.name}:${view.pid}:${sample.startTicks}`;
      const { verdict } = this.bombs.peek(key, glance, view.pid, settings, this.protects);
      if (!verdict) continue;
      held.delete(view.name);
      contained++;
      if (after === undefined) {
        after = this.deps.peek?.(roots) ?? this.deps.rescan();
        // A peek's time is taken as it ends (a scan's as it starts): lookMs runs to the same moment.
        this.scanStartedMs = this.now();
      }
      this.onUnitForkBomb(view, sample, key, verdict, settings, after, hold);
    }
    return contained;
  }

  // Stop, ahead of the full look, the group of each tree the peek showed at its limit whose
  // policy contains bombs (not one that only notifies): see holdGroup.
  private holdAtLimit(glance: ProcessSnapshot, atLimit: readonly AtLimit[]): Map<string, Held> {
    const held = new Map<string, Held>();
    for (const { view, settings, members } of atLimit) {
      if (settings.action === "notify") continue;
      const atMs = this.now();
      const group = holdGroup(this.deps.signaller, glance, { pid: view.pid, startTicks: view.startTicks }, members);
      if (group !== null) held.set(view.name, { group, atMs });
    }
    return held;
  }

  // The full look after a surge: each watched tree (and, under the global watch, each session's young processes) judged by its count.
  // A held tree found a bomb is taken out of `held` (its containment goes on from the hold).
  private judgeAfterSurge(snapshot: ProcessSnapshot, running: readonly UnitView[], checked: ReadonlyArray<{ view: UnitView; settings: ForkBombSettings }>, global: boolean, section: AnomalySettings, held: Map<string, Held>): void {
    /** Processes in policies' trees: the global watch leaves them to their policy. */
    const watched = new Set<number>();
    for (const view of running) {
      watched.add(view.pid);
      for (const pid of descendantsOf(snapshot, view.pid)) watched.add(pid);
    }
    for (const { view, settings } of checked) {
      const sample = snapshot.processes.get(view.pid);
      // A tree contained on the peek is not judged again.
      if (!sample || sample.state === "Z" || this.containing.has(view.name)) continue;
      const key = `${view.name}:${view.pid}:${sample.startTicks}`;
      const { verdict, members } = this.bombs.peek(key, snapshot, view.pid, settings, this.protects);
      this.noteTree(members.size, settings);
      for (const pid of members.keys()) watched.add(pid);
      if (!verdict) continue;
      const hold = held.get(view.name);
      held.delete(view.name);
      this.onUnitForkBomb(view, sample, key, verdict, settings, snapshot, hold);
    }
    if (!global) return;
    const exclude = watched.add(this.engine.selfPid);
    for (const [sid, members] of youngBySession(snapshot, this.uid, exclude, YOUNG_MS, this.protects)) {
      const key = `session:${sid}`;
      if (this.containing.has(key)) continue;
      const verdict = this.bombs.peekGroup(key, snapshot.timeMs, members, section.forkBomb);
      this.noteTree(members.size, section.forkBomb);
      if (verdict) this.onSessionForkBomb(snapshot, sid, key, members, verdict, section, exclude);
    }
  }

  // On a peek: could a watched tree, or a session's young processes under the
  // global watch, have reached max_descendants? The headroom is learnt from it.
  // The watched trees at their limit are returned (atLimit: those of the programs' own processes, whose
  // groups may be held before that full look), and how many trees were (over).
  private mayHoldBomb(glance: ProcessSnapshot, running: readonly UnitView[], checked: ReadonlyArray<{ view: UnitView; settings: ForkBombSettings }>, global: boolean, section: AnomalySettings): { may: boolean; atLimit: AtLimit[]; over: number } {
    let may = false;
    let over = 0;
    const atLimit: AtLimit[] = [];
    const watched = new Set<number>([this.engine.selfPid]);
    for (const { view, settings } of checked) {
      const sample = glance.processes.get(view.pid);
      if (!sample || sample.state === "Z") continue;
      const key = `${view.name}:${view.pid}:${sample.startTicks}`;
      const members = collectMembers(glance, view.pid, this.bombs.membersOf(key), this.protects);
      this.noteTree(members.size, settings);
      if (members.size < settings.maxDescendants) continue;
      may = true;
      over++;
      // Only the program's own process is a root to hold (its PID may be another's before its end is told).
      if (sample.startTicks === view.startTicks) atLimit.push({ view, settings, members });
    }
    if (!global) return { may, atLimit, over };
    for (const view of running) {
      watched.add(view.pid);
      for (const pid of descendantsOf(glance, view.pid)) watched.add(pid);
    }
    for (const members of youngBySession(glance, this.uid, watched, YOUNG_MS, this.protects).values()) {
      this.noteTree(members.size, section.forkBomb);
      if (members.size >= section.forkBomb.maxDescendants) may = true;
    }
    return { may, atLimit, over };
  }

  // The three checks of one running policy.
  // `watched` (null when the global watch is off) gathers the processes of the policies' trees.
  private observeUnit(view: UnitView, policy: Policy | undefined, snapshot: ProcessSnapshot, section: AnomalySettings, watched: Set<number> | null): void {
    const sample = snapshot.processes.get(view.pid);
    if (!policy || !sample || sample.state === "Z" || this.containing.has(view.name)) return;
    // Only the program's own process is a root: its PID may already be another's before its end is told.
    if (sample.startTicks !== view.startTicks) return;
    const settings = this.settingsOf(section, policy);
    const key = `${view.name}:${view.pid}:${sample.startTicks}`;
    if (watched !== null) {
      watched.add(view.pid);
      for (const pid of descendantsOf(snapshot, view.pid)) watched.add(pid);
    }

    if (settings.forkBomb.enabled) {
      const { verdict, members } = this.bombs.observe(key, snapshot, view.pid, settings.forkBomb, this.protects);
      this.noteTree(members.size, settings.forkBomb);
      if (watched !== null) for (const pid of members.keys()) watched.add(pid);
      if (verdict) {
        this.onUnitForkBomb(view, sample, key, verdict, settings.forkBomb, snapshot);
        return;
      }
    }
    const usage = policy.scope === "tree" ? treeTotals(snapshot, view.pid) : sample;
    if (settings.leak.enabled) {
      const verdict = this.leaks.observe(key, snapshot.timeMs, usage.rssBytes, settings.leak);
      if (verdict) this.report(view.name, view.pid, "memory_leak", leakDetail(verdict), leakFigures(verdict), settings.leak.action, snapshot.timeMs, true);
    }
    if (settings.cpuSpike.enabled) {
      const verdict = this.spikes.observe(key, snapshot.timeMs, usage.cpuPercent, settings.cpuSpike);
      if (verdict) this.report(view.name, view.pid, "cpu_spike", spikeDetail(verdict), { ...verdict }, settings.cpuSpike.action, snapshot.timeMs, true);
    }
  }

  // A policy's thresholds (effectiveSettings), made once per policy and [anomaly] section rather than at every scan:
  // a reload gives new objects for both, so a changed threshold is a new entry.
  private settingsOf(section: AnomalySettings, policy: Policy): EffectiveAnomalySettings {
    const cached = this.settingsCache.get(policy);
    if (cached?.section === section) return cached.settings;
    const settings = effectiveSettings(section, policy);
    this.settingsCache.set(policy, { section, settings });
    return settings;
  }

  // Emit the anomaly, then act on it through the engine (a refusal is told by the engine's own event).
  private report(name: string, pid: number, type: AnomalyType, detail: string, figures: Record<string, number>, action: AnomalyAction, timeMs: number, isPolicy: boolean): void {
    const done = isPolicy ? ACTION_WORDS[action] : ACTION_WORDS.notify;
    this.engine.events.emit({
      kind: "anomaly",
      timeMs,
      name,
      pid,
      type,
      detail,
      action: done,
      figures,
      message: `${name} (PID ${pid}): ${TYPE_WORDS[type]}: ${detail}; ${done}`,
    });
    if (!isPolicy || action === "notify") return;
    this.engine.actOn(name, action, "anomaly").catch((error: unknown) => {
      console.error(`selfheal: ${name}: acting on the ${TYPE_WORDS[type]} failed: ${error instanceof Error ? error.message : String(error)}`);
    });
  }

  // A policy's tree is a fork bomb: contain it (and stop the policy, or restart it), or only notify.
  private onUnitForkBomb(view: UnitView, sample: ProcessSample, key: string, verdict: ForkBombVerdict, settings: ForkBombSettings, snapshot: ProcessSnapshot, held?: Held): void {
    const action = settings.action;
    if (action === "notify") {
      this.report(view.name, view.pid, "fork_bomb", bombDetail(verdict, settings), bombFigures(verdict), "notify", snapshot.timeMs, true);
      return;
    }
    const rootPid = view.pid;
    const rootTicks = sample.startTicks;
    const target: ContainTarget = {
      root: { pid: rootPid, startTicks: rootTicks },
      members: (snapshot, known) => {
        const members = collectMembers(snapshot, rootPid, known, this.protects, rootTicks);
        const root = snapshot.processes.get(rootPid);
        if (root && root.startTicks === rootTicks && root.state !== "Z") members.set(rootPid, rootTicks);
        return members;
      },
      // The engine stops (or restarts) the policy itself, so it reads the root's end as asked for.
      onStopped: () => {
        this.engine.actOn(view.name, action, "anomaly").catch(() => {
          // refused: the engine has told why; the containment kills what it may
        });
      },
    };
    this.contain(view.name, rootPid, target, this.bombs.membersOf(key), verdict, settings, snapshot, () => this.bombs.forget(key), view.name, held);
  }

  // Contain in the background, starting from the snapshot the bomb was found in; then report what was reached.
  private contain(
    name: string,
    pid: number,
    target: ContainTarget,
    known: Members,
    verdict: ForkBombVerdict,
    settings: ForkBombSettings,
    found: ProcessSnapshot,
    after: () => void,
    guardKey = name,
    held?: Held,
  ): void {
    this.containing.add(guardKey);
    const lookMs = this.scanStartedMs - this.lookStartedMs;
    const run = containTree(
      target,
      { signaller: this.deps.signaller, rescan: () => this.deps.rescan(), sleep: this.sleep, now: this.now },
      { known, snapshot: found, lookStartedMs: this.lookStartedMs, groupHeld: held !== undefined, firstStopMs: held?.atMs },
    )
      .then((result) => this.reportContained(name, pid, verdict, settings, result, found.timeMs, lookMs))
      .catch((error: unknown) => console.error(`selfheal: containing the fork bomb of ${name} failed:`, error))
      .finally(() => {
        this.containing.delete(guardKey);
        after();
        this.inFlight.delete(run);
      });
    this.inFlight.add(run);
  }

  // lookMs: from the look's start to its full scan's (the event's time), so that a reader can date the containment's end.
  private reportContained(name: string, pid: number, verdict: ForkBombVerdict, settings: ForkBombSettings, result: ContainResult, timeMs: number, lookMs: number): void {
    const action =
      result.survivors === 0
        ? `contained ${result.reached} processes`
        : `contained ${result.reached - result.survivors} of ${result.reached} processes; ${result.survivors} could not be ended`;
    const detail = bombDetail(verdict, settings);
    this.engine.events.emit({
      kind: "anomaly",
      timeMs,
      name,
      pid,
      type: "fork_bomb",
      detail,
      action,
      figures: {
        ...bombFigures(verdict),
        reached: result.reached,
        survivors: result.survivors,
        refused: result.refused,
        containMs: result.durationMs,
        stoppedMs: result.stoppedAfterMs,
        firstStopMs: result.firstStopAfterMs,
        lookMs,
      },
      message: `${name} (PID ${pid}): fork bomb: ${detail}; ${action} in ${Math.round(result.durationMs)} ms`,
    });
  }

  // The global watch: leaks of every sizeable process of the user, and fork bombs among each session's young processes.
  private watchAll(snapshot: ProcessSnapshot, section: AnomalySettings, watched: ReadonlySet<number>): void {
    const exclude = new Set(watched).add(this.engine.selfPid);
    if (section.leak.enabled) {
      for (const sample of snapshot.processes.values()) {
        if (sample.uid !== this.uid || sample.kernelThread || sample.state === "Z" || exclude.has(sample.pid)) continue;
        if (sample.rssBytes < section.watchAllMinRssBytes) continue;
        const verdict = this.leaks.observe(`pid:${sample.pid}:${sample.startTicks}`, snapshot.timeMs, sample.rssBytes, section.leak);
        if (verdict) this.report(sample.comm, sample.pid, "memory_leak", leakDetail(verdict), leakFigures(verdict), "notify", snapshot.timeMs, false);
      }
    }
    if (!section.forkBomb.enabled) return;
    for (const [sid, members] of youngBySession(snapshot, this.uid, exclude, YOUNG_MS, this.protects)) {
      const key = `session:${sid}`;
      if (this.containing.has(key)) continue;
      const verdict = this.bombs.observeGroup(key, snapshot.timeMs, members, section.forkBomb);
      this.noteTree(members.size, section.forkBomb);
      if (verdict) this.onSessionForkBomb(snapshot, sid, key, members, verdict, section, exclude);
    }
  }

  // A session's young processes are a fork bomb. Containment is tied to a root: the young
  // process at the top of the largest young tree (its parent is not young), with what descends
  // from it or shares the session or group it leads, started after it (collectMembers). The
  // session's other programs, young or old, are not the bomb's and are left alone.
  private onSessionForkBomb(snapshot: ProcessSnapshot, sid: number, key: string, members: Members, verdict: ForkBombVerdict, section: AnomalySettings, exclude: ReadonlySet<number>): void {
    const root = bombRoot(snapshot, members, this.protects);
    const first = root ?? oldestOf(snapshot, members);
    const name = first?.comm ?? `session ${sid}`;
    const pid = first?.pid ?? sid;
    if (section.forkBomb.action === "notify" || root === undefined) {
      this.report(name, pid, "fork_bomb", bombDetail(verdict, section.forkBomb), bombFigures(verdict), "notify", snapshot.timeMs, false);
      return;
    }
    const rootTicks = root.startTicks;
    const target: ContainTarget = {
      root: { pid: root.pid, startTicks: rootTicks },
      members: (fresh, known) => {
        const found = collectMembers(fresh, root.pid, known, this.protects, rootTicks);
        const now = fresh.processes.get(root.pid);
        if (now && now.startTicks === rootTicks && now.state !== "Z") found.set(root.pid, rootTicks);
        for (const member of found.keys()) if (exclude.has(member)) found.delete(member);
        return found;
      },
    };
    const initial = target.members(snapshot, new Map());
    this.contain(name, pid, target, initial, verdict, section.forkBomb, snapshot, () => this.bombs.forget(key), key);
  }
}

// The root of a session's young processes: of the young processes whose parent is not one of
// them, the one whose tree (collectMembers) holds the most. Undefined when no young process has a
// tree of its own: a flat fan-out from an old parent (a script's loop, the user's own shell) names no
// bomb that could be ended without guessing, so it is told, not contained.
function bombRoot(snapshot: ProcessSnapshot, members: Members, protects: (sample: ProcessSample) => string | null): ProcessSample | undefined {
  let best: { sample: ProcessSample; size: number } | undefined;
  for (const pid of members.keys()) {
    const sample = snapshot.processes.get(pid);
    if (!sample || members.has(sample.ppid)) continue;
    const size = collectMembers(snapshot, pid, new Map(), protects, sample.startTicks).size;
    if (!best || size > best.size) best = { sample, size };
  }
  return best && best.size > 0 ? best.sample : undefined;
}

/** A watched tree at its limit on a peek: held before the full look judges it. */
interface AtLimit {
  view: UnitView;
  settings: ForkBombSettings;
  members: Members;
}

// How many of `members` the look read now (every one, for a look that reads all).
function readNowCount(snapshot: ProcessSnapshot, members: ReadonlyMap<number, number>): number {
  const readNow = snapshot.readNow;
  if (readNow === undefined) return members.size;
  let count = 0;
  for (const pid of members.keys()) if (readNow.has(pid)) count++;
  return count;
}

/** A group held on a peek, and when (this.now()). */
interface Held {
  group: HeldGroup;
  atMs: number;
}

const TYPE_WORDS: Record<AnomalyType, string> = { memory_leak: "memory leak", fork_bomb: "fork bomb", cpu_spike: "CPU spike" };

// The earliest started of a group of processes.
function oldestOf(snapshot: ProcessSnapshot, members: Members): ProcessSample | undefined {
  let oldest: ProcessSample | undefined;
  for (const pid of members.keys()) {
    const sample = snapshot.processes.get(pid);
    if (sample && (!oldest || sample.startTicks < oldest.startTicks)) oldest = sample;
  }
  return oldest;
}

function leakDetail(verdict: LeakVerdict): string {
  return `RSS grew ${(verdict.slopeMbPerSec * SEC_PER_MIN).toFixed(1)} MB/min for ${Math.round(verdict.spanSec)} s (r² ${verdict.r2.toFixed(2)}), now ${Math.round(verdict.rssMb)} MB`;
}

function leakFigures(verdict: LeakVerdict): Record<string, number> {
  return { ...verdict, slopeMbPerMin: verdict.slopeMbPerSec * SEC_PER_MIN };
}

function spikeDetail(verdict: CpuSpikeVerdict): string {
  return `${Math.round(verdict.cpuPercent)}% CPU for ${verdict.scans} scans against a baseline of ${verdict.baselinePercent.toFixed(1)}% (threshold ${Math.round(verdict.thresholdPercent)}%)`;
}

function bombDetail(verdict: ForkBombVerdict, settings: ForkBombSettings): string {
  return verdict.reason === "descendants"
    ? `${verdict.descendants} descendants (limit ${settings.maxDescendants})`
    : `${Math.round(verdict.spawnRate)} new processes per second (limit ${settings.maxSpawnRate}), ${verdict.descendants} descendants`;
}

function bombFigures(verdict: ForkBombVerdict): Record<string, number> {
  return { descendants: verdict.descendants, spawnRate: verdict.spawnRate };
}
