// The daemon: wires the engine to its real inputs (/proc, the clock, child
// processes, files), its detectors (anomalies, zombies) and its adapters (event
// log, notifiers; the D-Bus service is added by the daemon command), reloads
// config.toml when it changes, and stops cleanly.
import { dirname, join } from "node:path";
import type { Config } from "./config/policy.js";
import { Engine } from "./engine/engine.js";
import type { EngineEvent } from "./engine/events.js";
import { systemClock } from "./engine/clock.js";
import { ConfigError } from "./config/load.js";
import { PolicyStore, type PolicyEdit } from "./config/policyStore.js";
import { watchConfig, type ConfigWatcher } from "./config/watch.js";
import { overridesPath, runtimeDir, stateDir } from "./config/paths.js";
import { ProcScanner, systemPageSizeBytes } from "./proc/scan.js";
import { ProcProbe } from "./proc/probe.js";
import { ProcCounters } from "./proc/counters.js";
import { SignalGuard } from "./safety/guard.js";
import { ChildSpawner, type Spawner } from "./supervise/spawner.js";
import { KeeperSpawner } from "./keeper/spawner.js";
import { locateKeeper } from "./keeper/locate.js";
import { locateSentinel, SentinelProcess, WITHOUT_SENTINEL } from "./sentinel/process.js";
import { FileCooldownStore } from "./state/cooldownStore.js";
import { EventLog } from "./state/eventLog.js";
import { removeStaleTempFiles } from "./state/atomic.js";
import { ZombieMonitor } from "./zombies/monitor.js";
import { AnomalyJournal } from "./anomaly/journal.js";
import { AnomalyMonitor } from "./anomaly/monitor.js";
import { Notifiers } from "./notify/notifiers.js";
import { TimedSource } from "./proc/timedSource.js";
import { MetricsHost } from "./metrics/host.js";
import type { MetricsSource } from "./metrics/source.js";
import packageJson from "../package.json" with { type: "json" };
import { plural } from "./words.js";
import { broadMatchWarning } from "./config/broadMatch.js";
import { HistoryStore } from "./history/store.js";
import type { NotificationResponder, ShowView } from "./notify/actions.js";

/**
 * The engine's scans read the processes outside the watched programs' trees
 * every this many scans (a zombie or a changed process of theirs is seen
 * within as many seconds at 1 s scans); the watched trees and new PIDs every scan.
 */
const REST_EVERY_SCANS = 5;
/** Events that are also a line on stderr (the journal): what selfheal refused, could not do, or a bug it survived. */
const LOGGED_KINDS: ReadonlySet<EngineEvent["kind"]> = new Set(["protected", "protected-match", "action-failed", "internal-error", "start-failed"]);

export interface DaemonOptions {
  configPath: string;
  env: NodeJS.ProcessEnv;
  /** false starts programs as the daemon's own children, without keepers (`--no-keeper`). */
  keeper?: boolean;
  /** false takes the looks between scans in the daemon itself, without the sentinel process (`--no-sentinel`). */
  sentinel?: boolean;
}

/** Something that runs beside the engine (the D-Bus service, notifiers) and stops with it. */
export interface Adapter {
  stop(): Promise<void> | void;
}

/** Hears the daemon's requests to show a view and row of the desktop's menu (the ShowRequested signal). */
export type ShowListener = (view: ShowView, name: string) => void;

export class Daemon implements NotificationResponder {
  readonly engine: Engine;
  readonly policies: PolicyStore;
  readonly eventLog: EventLog;
  readonly guard: SignalGuard;
  readonly stateDir: string;
  readonly zombies: ZombieMonitor;
  readonly anomalies: AnomalyJournal;
  readonly detectors: AnomalyMonitor;
  readonly notifiers: Notifiers;
  /** The Prometheus metrics: nothing is loaded unless config.toml has a [metrics] section. */
  readonly metrics: MetricsHost;
  /** D-Bus calls answered, by method (the D-Bus service counts them; the metrics read them). */
  readonly busCalls = new Map<string, number>();
  /** Each watched program's CPU and memory at every scan, for the last 10 minutes (GetHistory). */
  readonly history: HistoryStore;
  /**
   * Resolves once start() has made the first scan and started the autostart
   * programs: until then, what the engine knows is not yet the truth (the
   * D-Bus service holds its answers until this).
   */
  readonly started: Promise<void>;
  private markStarted: (first: Promise<void>) => void = () => undefined;
  private watcher: ConfigWatcher | null = null;
  private readonly cooldownStore: FileCooldownStore;
  private readonly adapters: Adapter[] = [];
  private readonly keepers: KeeperSpawner | null;
  /** Why programs are started without keepers, or null when they have them. */
  private readonly keeperProblem: string | null;
  /** The sentinel process that takes the looks between scans, or null (then why, in sentinelProblem). */
  readonly sentinel: SentinelProcess | null;
  private readonly sentinelProblem: string | null;
  private readonly showListeners = new Set<ShowListener>();
  /** Policy edits one at a time (D-Bus calls and notification actions alike). */
  private policyEdits: Promise<unknown> = Promise.resolve();

  constructor(readonly options: DaemonOptions) {
    this.started = new Promise((resolve) => (this.markStarted = resolve));
    this.stateDir = stateDir(options.env);
    removeLeftoverTempFiles([this.stateDir, dirname(options.configPath)]);
    this.policies = new PolicyStore({
      config: options.configPath,
      overrides: overridesPath(options.env),
      lastGood: join(this.stateDir, "config.last-good.toml"),
    });
    this.eventLog = new EventLog(join(this.stateDir, "events.jsonl"));
    this.guard = new SignalGuard();
    this.cooldownStore = new FileCooldownStore(join(this.stateDir, "cooldown.json"));
    const probe = new ProcProbe("/proc", systemPageSizeBytes());
    const keepers = startKeepers(options, probe);
    this.keepers = "spawner" in keepers ? keepers.spawner : null;
    this.keeperProblem = "problem" in keepers ? keepers.problem : null;
    const spawner: Spawner = this.keepers ?? new ChildSpawner(options.env);
    // The processes outside the watched programs' trees are read every REST_EVERY_SCANS scans (proc/scan.ts).
    const source = new TimedSource(new ProcScanner({ holdStatFiles: true, restEveryScans: REST_EVERY_SCANS }));
    const sentinel = options.sentinel === false ? { problem: `started with --no-sentinel; ${WITHOUT_SENTINEL}` } : locateSentinel();
    this.sentinel = "path" in sentinel ? new SentinelProcess({ path: sentinel.path, log: (line) => console.error(line) }) : null;
    this.sentinelProblem = "problem" in sentinel ? sentinel.problem : null;
    this.engine = new Engine(
      {
        clock: systemClock,
        source,
        probe,
        counters: new ProcCounters(),
        lookout: this.sentinel ?? undefined,
        spawner,
        signaller: this.guard,
        cooldownStore: this.cooldownStore,
      },
      this.policies.config,
    );
    this.engine.events.subscribe((event) => this.eventLog.append(event));
    // internal-error lines carry the stack already (logged where the bug was caught).
    this.engine.events.subscribe((event) => {
      if (LOGGED_KINDS.has(event.kind) && event.kind !== "internal-error") console.error(`selfheal: ${event.message}`);
    });
    // Containment and zombie cleanup look again between ticks, with a scanner of their own.
    const rescanner = new ProcScanner({ holdStatFiles: true });
    const rescan = () => rescanner.scan();
    this.zombies = new ZombieMonitor(this.engine, { signaller: this.guard, rescan, refusal: (pid) => this.guard.reasonToRefuse(pid) });
    // A surge of forks is first looked at through the engine's scanner's peek (new PIDs read only).
    this.detectors = new AnomalyMonitor(this.engine, { signaller: this.guard, rescan, peek: (fresh) => source.peek?.(fresh) ?? rescan() });
    this.anomalies = new AnomalyJournal(this.engine.events);
    this.history = new HistoryStore(this.engine, systemClock);
    this.history.start();
    // Mail and desktop notifications; they follow config reloads in apply().
    this.notifiers = new Notifiers(this.engine.events, this.policies.config, { env: options.env, responder: this });
    this.addAdapter(this.notifiers);
    this.metrics = new MetricsHost(this.metricsSource(source));
    this.addAdapter(this.metrics);
  }

  // Start the engine and watch config.toml; problems found at start go to the event log.
  // Resolves (as `started` does) once the first scan is made and the autostart programs have started.
  start(): Promise<void> {
    for (const problem of this.policies.startupProblems) this.reportRejected(problem);
    this.warnOfBroadMatches(this.policies.config);
    if (this.keeperProblem !== null) {
      console.error(`selfheal: no keeper: ${this.keeperProblem}`);
      this.engine.events.emit({ kind: "keeper-unavailable", timeMs: Date.now(), reason: this.keeperProblem, message: `no keeper: ${this.keeperProblem}` });
    }
    if (this.sentinelProblem !== null) console.error(`selfheal: no sentinel: ${this.sentinelProblem}`);
    // The engine's start never rejects (a program that cannot start is an event).
    this.markStarted(this.engine.start());
    this.watcher = watchConfig(this.options.configPath, () => this.reloadConfig());
    const metricsSettings = this.policies.config.metrics ?? null;
    return metricsSettings === null ? this.started : Promise.all([this.started, this.metrics.configure(metricsSettings)]).then(() => undefined);
  }

  addAdapter(adapter: Adapter): void {
    this.adapters.push(adapter);
  }

  /** Empty, or why config.toml was rejected and what is in force instead (the ConfigError property). */
  get configError(): string {
    const rejection = this.policies.rejection;
    if (rejection === null) return "";
    const inForce = rejection.lastGoodInForce
      ? "the last good version of config.toml stays in force"
      : "no earlier version of config.toml loaded, so none of its policies are in force; fix the file and save it";
    return `${rejection.error.message}\n${inForce}`;
  }

  // config.toml changed: apply it, or keep the last good policies and say why.
  reloadConfig(): void {
    const result = this.policies.reload();
    if (!result.ok) return this.reportRejected(result.error);
    this.apply(result.config);
  }

  // Policy edits from D-Bus: validated, persisted, applied at once.
  setPolicy(name: string, edit: PolicyEdit): Promise<void> {
    return this.editPolicies(async () => this.apply(await this.policies.setPolicy(name, edit)));
  }

  removePolicy(name: string): Promise<void> {
    return this.editPolicies(async () => this.apply(await this.policies.removePolicy(name)));
  }

  // Back to config.toml for one policy; false when there was nothing of that name.
  resetPolicy(name: string): Promise<boolean> {
    return this.editPolicies(async () => {
      const config = await this.policies.resetPolicy(name);
      if (config === null) return false;
      this.apply(config);
      return true;
    });
  }

  // One edit at a time, so that two concurrent ones cannot lose each other's change.
  private editPolicies<T>(edit: () => Promise<T>): Promise<T> {
    const next = this.policyEdits.then(edit, edit);
    this.policyEdits = next.catch(() => undefined);
    return next;
  }

  // ---- what a notification's actions do (NotificationResponder) ----

  // "Restart now" on a crash loop's notification: end the cooldown, start the program.
  async restartNow(name: string): Promise<void> {
    this.engine.resetCooldown(name);
    await this.engine.startProcess(name);
  }

  // "Stop watching": the policy goes (config.toml's stays hidden until `selfheal policy reset`).
  async stopWatching(name: string): Promise<void> {
    if (!this.policies.config.policies.has(name)) return;
    await this.removePolicy(name);
  }

  async cleanupZombies(): Promise<void> {
    await this.zombies.cleanup();
  }

  // A click on a notification: whoever shows the menu (the D-Bus service's ShowRequested) is told.
  show(view: ShowView, name: string): void {
    for (const listener of this.showListeners) listener(view, name);
  }

  // Follow show requests; returns the unsubscribe.
  onShowRequested(listener: ShowListener): () => void {
    this.showListeners.add(listener);
    return () => this.showListeners.delete(listener);
  }

  // A bug that escaped every handler (an unhandled rejection, an uncaught
  // exception): logged with its stack and recorded as an internal-error event;
  // the daemon carries on, since ending it would leave every program unguarded.
  reportEscapedError(kind: string, error: unknown): void {
    const text = error instanceof Error ? (error.stack ?? error.message) : String(error);
    const firstLine = error instanceof Error ? error.message : String(error);
    console.error(`selfheal: internal error (${kind}), carrying on:\n${text}`);
    try {
      this.engine.events.emit({ kind: "internal-error", timeMs: Date.now(), where: kind, error: text, message: `internal error (${kind}): ${firstLine}; selfheal carries on` });
    } catch {
      // the line above is the record then
    }
  }

  async stop(): Promise<void> {
    // The engine first: from here on nothing is started, so a program that ends
    // while the adapters close is told, never restarted behind the stop.
    this.engine.shutdown();
    this.watcher?.close();
    for (const adapter of this.adapters.reverse()) {
      try {
        await adapter.stop();
      } catch (error) {
        console.error("selfheal: stopping an adapter failed:", error);
      }
    }
    this.keepers?.close();
    // A containment or cleanup under way finishes: half-stopped trees are not left behind.
    await Promise.all([this.detectors.idle(), this.zombies.idle()]);
    // Then a background cooldown write under way: it cannot replace the state saved at
    // shutdown, but it would leave its temporary file behind.
    await this.cooldownStore.idle();
  }

  private apply(config: Config): void {
    const changes = this.engine.applyConfig(config);
    this.notifiers.configure(config);
    // Never rejects (a problem is logged); the engine does not wait for the endpoint.
    void this.metrics.configure(config.metrics ?? null);
    const summary = [
      changes.added.length ? `added ${changes.added.join(", ")}` : "",
      changes.removed.length ? `removed ${changes.removed.join(", ")}` : "",
      changes.changed.length ? `changed ${changes.changed.join(", ")}` : "",
    ].filter(Boolean);
    // Never silent: what the overrides shadow in config.toml is said every time.
    const shadowed = this.policies.notices();
    const warnings = this.warnOfBroadMatches(config);
    this.engine.events.emit({
      kind: "config-reloaded",
      timeMs: Date.now(),
      file: this.options.configPath,
      ...changes,
      shadowed,
      message: `configuration applied: ${plural(config.policies.size, "policy", "policies")}${summary.length ? ` (${summary.join("; ")})` : ""}${[...shadowed, ...warnings.map((warning) => `warning: ${warning}`)].map((notice) => `; ${notice}`).join("")}`,
    });
  }

  // What the metrics read: the figures the D-Bus service reads too, and each scan as it is made.
  private metricsSource(source: TimedSource): MetricsSource {
    return {
      version: packageJson.version,
      units: () => this.engine.list(),
      appOf: (name) => this.engine.activeConfig.policies.get(name)?.app?.id ?? null,
      subscribe: (listener) => this.engine.events.subscribe(listener),
      onScan: (observer) => this.engine.onScan((snapshot) => observer({ snapshot, durationSec: source.lastScanSec })),
      zombieCount: () => this.zombies.count,
      busCalls: () => this.busCalls,
      eventLogWriteErrors: () => this.eventLog.writeErrors,
      notifications: () => [
        { channel: "email", sent: this.notifiers.email.outbox.stats.sent, suppressed: this.notifiers.email.suppressed },
        { channel: "desktop", sent: this.notifiers.desktop.stats.shown, suppressed: this.notifiers.desktop.suppressed },
      ],
    };
  }

  // Valid but risky: a match that adopts every process of a common program. Said in the log (and by apply, in its event).
  private warnOfBroadMatches(config: Config): string[] {
    const warnings = [...config.policies.values()].flatMap((policy) => broadMatchWarning(policy) ?? []);
    for (const warning of warnings) console.error(`selfheal: warning: ${warning}`);
    return warnings;
  }

  private reportRejected(error: ConfigError): void {
    console.error(`selfheal: configuration rejected, the previous policies stay in force:\n${error.message}`);
    this.engine.events.emit({
      kind: "config-rejected",
      timeMs: Date.now(),
      file: this.options.configPath,
      error: error.message,
      message: `configuration rejected, the previous policies stay in force: ${error.message}`,
    });
  }
}

// Before anything is read or written: the temporary files of writes a kill -9 interrupted.
function removeLeftoverTempFiles(dirs: readonly string[]): void {
  const removed = dirs.flatMap((dir) => removeStaleTempFiles(dir).map((name) => join(dir, name)));
  if (removed.length > 0) console.error(`selfheal: removed ${plural(removed.length, "temporary file", "temporary files")} left by interrupted writes: ${removed.join(", ")}`);
}

// The keepers' spawner, or why programs run without keepers (told at start).
function startKeepers(options: DaemonOptions, probe: ProcProbe): { spawner: KeeperSpawner } | { problem: string } {
  if (options.keeper === false) return { problem: "started with --no-keeper; programs are the daemon's own children, so a restart of the daemon ends their crash protection" };
  const location = locateKeeper();
  if ("problem" in location) return location;
  const dir = runtimeDir(options.env);
  try {
    return { spawner: new KeeperSpawner({ keeperPath: location.path, dir, baseEnv: options.env, probe }) };
  } catch (error) {
    return { problem: `cannot use ${dir} for the keepers' records (${error instanceof Error ? error.message : String(error)}); programs are the daemon's own children` };
  }
}
