// The D-Bus service: io.github.SelfHeal1 on the session bus, serving the
// Manager interface exactly as dbus/io.github.SelfHeal1.Manager.xml defines
// it. Every call is checked against the XML's signature and answered, with a
// result or an error reply; engine events go out as signals, and property
// changes as PropertiesChanged.
import { readFileSync } from "node:fs";
import type { Adapter, Daemon } from "../daemon.js";
import type { EngineEvent } from "../engine/events.js";
import type { UnitView } from "../engine/engine.js";
import { EngineError, unknownProcess, watchedPrograms } from "../engine/errors.js";
import { NAME_PATTERN } from "../config/defaults.js";
import packageJson from "../../package.json" with { type: "json" };
import { onBusClosed, type MessageBus } from "./connect.js";
import { Message, MESSAGE_FLAG, MESSAGE_TYPE, Variant } from "./dbus.js";
import { errorReply } from "./errors.js";
import { MemorySettler } from "./settle.js";
import { assessHealth, HealthEvents, RECENT_ANOMALY_MS, type Health } from "./health.js";
import { renderNode, type InterfaceSpec, type MethodSpec } from "./introspection.js";
import { BUS_NAME, DBUS_ERRORS, ERROR_PREFIX, MANAGER_INTERFACE, NAME_FLAG_DO_NOT_QUEUE, OBJECT_PATH, REQUEST_NAME_REPLY, STANDARD_INTERFACES } from "./names.js";
import { policiesRecord, policyInput } from "./policies.js";
import { anomalyDetails, anomalyRecord, cooldownRecord, eventRecord, processRecord, zombieRecord } from "./records.js";
import { InvalidArgsError, int32, preview, uint32 } from "./variants.js";


/** The daemon's version, as the Version property reports it. */
export const VERSION: string = packageJson.version;

/** Methods that only read: answering them changes no property, so no PropertiesChanged check follows them. */
const READ_ONLY_METHODS = new Set(["ListProcesses", "GetProcess", "ListAnomalies", "ListZombies", "GetCooldowns", "GetPolicies", "GetEvents", "GetHistory"]);

/** Methods that change the policies: a read sent after one is answered after it. */
const POLICY_EDIT_METHODS = new Set(["SetPolicy", "RemovePolicy", "ResetPolicy"]);

/** How long stop() waits for the bus to release the name before disconnecting anyway. */
const RELEASE_TIMEOUT_MS = 1000;
const MICROSECONDS_PER_MS = 1000n;

/** Another process owns io.github.SelfHeal1 already. */
export class NameTakenError extends Error {
  override readonly name = "NameTakenError";
  constructor(readonly ownerPid: number | null) {
    super(
      `another selfheal daemon${ownerPid === null ? "" : ` (PID ${ownerPid})`} already owns ${BUS_NAME} on this session bus; ` +
        `not starting a second one. Talk to it with "selfheal status", or stop it first ("systemctl --user stop selfheal").`,
    );
  }
}

type MethodResult = unknown[] | Promise<unknown[]>;
type MethodHandler = (args: unknown[]) => MethodResult;

export interface BusServiceOptions {
  /** Called once if the connection to the bus is lost while serving. */
  onLost?: (reason: string) => void;
}

export class BusService implements Adapter {
  private readonly health = new HealthEvents();
  private readonly settler = new MemorySettler();
  private readonly methods: Record<string, MethodHandler>;
  private readonly unsubscribers: Array<() => void> = [];
  private readonly handler = (msg: Message): boolean => this.onMessage(msg);
  private lastProperties: Record<string, string | number> = {};
  /**
   * The units as the last scan left them, until an event or a refresh: the refresh that follows
   * a scan takes them rather than listing the units again (an event may mean they changed since).
   */
  private scanViews: readonly UnitView[] | null = null;
  private refreshQueued = false;
  private policyEdits: Promise<unknown> = Promise.resolve();
  /** While a policy edit is under way, the answer to the last one (sent or not yet): reads sent after it wait for it. */
  private editAnswered: Promise<void> | null = null;
  private zombiesCleanedSeen = 0;
  /** Calls that came before the daemon's first scan, answered once it is made; null from then on. */
  private held: Message[] | null = [];
  private stopping = false;
  private closed = false;

  constructor(
    private readonly daemon: Daemon,
    private readonly bus: MessageBus,
    private readonly spec: InterfaceSpec,
    private readonly options: BusServiceOptions = {},
  ) {
    this.methods = this.methodTable();
  }

  // Answer calls and forward events, then take the well-known name (without
  // queueing: a second daemon must fail, never wait to take over).
  async start(): Promise<void> {
    this.bus.addMethodHandler(this.handler);
    this.unsubscribers.push(this.daemon.engine.events.subscribe((event) => this.onEvent(event)));
    this.unsubscribers.push(
      this.daemon.engine.onScan((_snapshot, views) => {
        this.scanViews = views;
        this.scheduleRefresh();
      }),
    );
    this.unsubscribers.push(this.daemon.onShowRequested((view, name) => this.emitSignal("ShowRequested", [view, name])));
    this.bus.on("error", (error: unknown) => {
      if (!this.stopping) console.error(`selfheal: D-Bus connection error: ${error instanceof Error ? error.message : String(error)}`);
    });
    onBusClosed(this.bus, () => {
      this.closed = true;
      if (!this.stopping) this.options.onLost?.("the connection to the session bus was closed");
    });
    this.lastProperties = this.propertyValues();
    // The name may be taken (and calls queued by D-Bus activation delivered) before the
    // engine's first scan: those calls wait for it, so no answer tells a state not yet seen.
    this.daemon.started.then(
      () => this.serveHeld(),
      () => this.serveHeld(),
    );
    const reply = await this.bus.requestName(BUS_NAME, NAME_FLAG_DO_NOT_QUEUE);
    if (reply !== REQUEST_NAME_REPLY.primaryOwner && reply !== REQUEST_NAME_REPLY.alreadyOwner) {
      const owner = await this.ownerPid();
      await this.stop();
      throw new NameTakenError(owner);
    }
  }

  // Stop answering, give the name back and disconnect; the engine goes on without us.
  async stop(): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    this.settler.stop();
    for (const unsubscribe of this.unsubscribers.splice(0)) unsubscribe();
    this.bus.removeMethodHandler(this.handler);
    for (const msg of this.held?.splice(0) ?? []) this.sendError(msg, `${ERROR_PREFIX}Failed`, "the selfheal daemon is stopping");
    if (!this.closed) {
      await Promise.race([this.bus.releaseName(BUS_NAME).catch(() => undefined), new Promise((resolve) => setTimeout(resolve, RELEASE_TIMEOUT_MS))]);
    }
    try {
      this.bus.disconnect();
    } catch {
      // already gone
    }
  }

  // ---- calls ----

  private onMessage(msg: Message): boolean {
    if (msg.type !== MESSAGE_TYPE.methodCall) return false;
    if (this.held !== null) {
      this.held.push(msg);
      return true;
    }
    // A read sent after a policy edit sees the edit: it is answered once the edit's answer is sent.
    // So a client may send both at once (the menu's "Watch an app…" asks for the new row with
    // its SetPolicy, and has it with the reply, instead of a round trip after it).
    const edit = this.editAnswered;
    if (edit !== null && isRead(msg)) {
      void edit.then(() => this.serve(msg));
      return true;
    }
    this.serve(msg);
    return true;
  }

  // Answer one call, with its result or an error reply.
  private serve(msg: Message): void {
    try {
      const result = this.route(msg);
      if (!(result instanceof Promise)) return this.reply(msg, result);
      // Never rejects: a failure is answered with an error reply.
      const answered = result.then(
        (reply) => this.reply(msg, reply),
        (error: unknown) => this.replyError(msg, error),
      );
      if (isPolicyEdit(msg)) {
        this.editAnswered = answered;
        void answered.then(() => {
          if (this.editAnswered === answered) this.editAnswered = null;
        });
      }
    } catch (error) {
      this.replyError(msg, error);
    }
  }

  // The first scan is made: answer the calls that waited for it, in order.
  private serveHeld(): void {
    const held = this.held ?? [];
    this.held = null;
    if (this.stopping) return;
    for (const msg of held) this.onMessage(msg);
  }

  // Decide what a call is: ours, a standard interface, or an error reply.
  private route(msg: Message): Reply | Promise<Reply> {
    const path = msg.path;
    const iface = msg.interface ?? "";
    const member = msg.member;
    if (path !== OBJECT_PATH) return this.routeAncestor(msg, path, iface, member);
    if (iface === STANDARD_INTERFACES.introspectable || (iface === "" && member === "Introspect")) {
      expectSignature(msg, "Introspect", "");
      return { signature: "s", body: [renderNode([this.spec], [])] };
    }
    if (iface === STANDARD_INTERFACES.properties) return this.routeProperties(msg, member);
    if (iface === STANDARD_INTERFACES.peer || (iface === "" && (member === "Ping" || member === "GetMachineId"))) return routePeer(msg, member);
    if (iface !== MANAGER_INTERFACE && iface !== "") {
      return errorOf(DBUS_ERRORS.unknownInterface, `${OBJECT_PATH} has no interface ${preview(iface)}; it implements ${MANAGER_INTERFACE}`);
    }
    const method = this.spec.methods.get(member);
    const handler = this.methods[member];
    if (!method || !handler) {
      return errorOf(DBUS_ERRORS.unknownMethod, `${MANAGER_INTERFACE} has no method ${preview(member)}; Introspect lists them`);
    }
    expectSignature(msg, method.name, method.inSignature, method);
    // Counted by the interface's own method names only, so the metrics' labels stay bounded.
    this.daemon.busCalls.set(method.name, (this.daemon.busCalls.get(method.name) ?? 0) + 1);
    const result = handler(msg.body);
    const finish = (body: unknown[]): Reply => {
      // A call that may change state announces the properties it changed; a read leaves them as they were.
      if (!READ_ONLY_METHODS.has(member)) this.scheduleRefresh();
      return { signature: method.outSignature, body };
    };
    return result instanceof Promise ? result.then(finish) : finish(result);
  }

  // Paths above ours ("/", "/io", "/io/github") introspect to the next node down, so `busctl tree` finds us.
  private routeAncestor(msg: Message, path: string, iface: string, member: string): Reply {
    const child = childNodeOf(path);
    if (child === null) return errorOf(DBUS_ERRORS.unknownObject, `no object at ${preview(path)}; selfheal serves ${OBJECT_PATH}`);
    if ((iface === STANDARD_INTERFACES.introspectable || iface === "") && member === "Introspect") {
      expectSignature(msg, "Introspect", "");
      return { signature: "s", body: [renderNode([], [child])] };
    }
    if (iface === STANDARD_INTERFACES.peer || iface === "") return routePeer(msg, member);
    return errorOf(DBUS_ERRORS.unknownMethod, `${path} only holds ${OBJECT_PATH}; call its methods there`);
  }

  private routeProperties(msg: Message, member: string): Reply {
    const values = this.propertyValues();
    if (member === "Get") {
      expectSignature(msg, "Get", "ss");
      const [iface, name] = msg.body as [string, string];
      this.checkPropertyInterface(iface);
      const property = this.spec.properties.get(name);
      const value = values[name];
      if (!property || value === undefined) return errorOf(DBUS_ERRORS.unknownProperty, `${MANAGER_INTERFACE} has no property ${preview(name)}`);
      return { signature: "v", body: [new Variant(property.type, value)] };
    }
    if (member === "GetAll") {
      expectSignature(msg, "GetAll", "s");
      const [iface] = msg.body as [string];
      if (iface !== MANAGER_INTERFACE && iface !== "") {
        if ((Object.values(STANDARD_INTERFACES) as string[]).includes(iface)) return { signature: "a{sv}", body: [{}] };
        return errorOf(DBUS_ERRORS.unknownInterface, `${OBJECT_PATH} has no interface ${preview(iface)}`);
      }
      return { signature: "a{sv}", body: [this.propertyVariants(values)] };
    }
    if (member === "Set") {
      expectSignature(msg, "Set", "ssv");
      const [iface, name] = msg.body as [string, string];
      this.checkPropertyInterface(iface);
      if (!this.spec.properties.has(name)) return errorOf(DBUS_ERRORS.unknownProperty, `${MANAGER_INTERFACE} has no property ${preview(name)}`);
      return errorOf(DBUS_ERRORS.propertyReadOnly, `${name} is read-only; change the policies with SetPolicy instead`);
    }
    return errorOf(DBUS_ERRORS.unknownMethod, `${STANDARD_INTERFACES.properties} has no method ${preview(member)}`);
  }

  private checkPropertyInterface(iface: string): void {
    if (iface !== MANAGER_INTERFACE && iface !== "") throw new InvalidArgsError(`${OBJECT_PATH} has no properties on interface ${preview(iface)}; use ${MANAGER_INTERFACE}`);
  }

  private reply(msg: Message, reply: Reply): void {
    if ("error" in reply) return this.sendError(msg, reply.error, reply.message);
    this.settler.note();
    if (noReplyExpected(msg)) return;
    try {
      this.bus.send(Message.newMethodReturn(msg, reply.signature, reply.body));
    } catch (error) {
      // A value the marshaller refused: a bug here, answered rather than left hanging.
      console.error(`selfheal: cannot send the reply to ${msg.member}:`, error);
      this.sendError(msg, `${ERROR_PREFIX}Failed`, `the reply to ${msg.member} could not be encoded; see the daemon's log`);
    }
  }

  private replyError(msg: Message, error: unknown): void {
    const reply = errorReply(error);
    if (reply.unexpected) console.error(`selfheal: ${msg.member} failed:`, error);
    this.sendError(msg, reply.name, reply.message);
  }

  private sendError(msg: Message, name: string, message: string): void {
    this.settler.note(true);
    if (noReplyExpected(msg)) return;
    try {
      this.bus.send(Message.newError(msg as never, name, message));
    } catch (error) {
      console.error(`selfheal: cannot send an error reply to ${msg.member}:`, error);
    }
  }

  // ---- the Manager's methods ----

  private methodTable(): Record<string, MethodHandler> {
    const engine = this.daemon.engine;
    const policies = this.daemon.policies;
    // No policy of that name; when config.toml's is hidden by RemovePolicy, the error says so.
    const noPolicy = (name: string): EngineError => {
      const hidden = policies.hiddenReason(name);
      return hidden === null ? unknownProcess(name, engine.list().map((view) => view.name)) : new EngineError("UnknownProcess", `no policy named "${name}": ${hidden}`);
    };
    // The desktop app a policy watches, for its record's app_* keys.
    const appOf = (name: string) => policies.config.policies.get(name)?.app;
    // A call about one policy's unit.
    const unit = <T>(name: unknown, act: (checked: string) => T): T => {
      const checked = processName(name);
      if (!engine.list().some((view) => view.name === checked)) throw noPolicy(checked);
      return act(checked);
    };
    return {
      ListProcesses: () => [engine.list().map((view) => processRecord(view, appOf(view.name)))],
      GetProcess: ([name]) => [processRecord(unit(name, (checked) => engine.get(checked)), appOf(String(name)))],
      StartProcess: async ([name]) => {
        await unit(name, (checked) => engine.startProcess(checked));
        return [];
      },
      StopProcess: async ([name]) => {
        await unit(name, (checked) => engine.stopProcess(checked));
        return [];
      },
      RestartProcess: async ([name]) => {
        await unit(name, (checked) => engine.restartProcess(checked));
        return [];
      },
      ListAnomalies: () => [this.daemon.anomalies.list().map(anomalyRecord)],
      ListZombies: () => [this.daemon.zombies.list().map((zombie) => zombieRecord(zombie, this.daemon.zombies.parentFacts(zombie.ppid)))],
      CleanupZombies: () => this.cleanupZombies(),
      EndZombieParent: ([ppid]) => this.endZombieParent(Number(ppid)),
      GetCooldowns: () => [engine.cooldownViews().map((view) => cooldownRecord(view, Date.now()))],
      ResetCooldown: ([name]) => {
        unit(name, (checked) => engine.resetCooldown(checked));
        return [];
      },
      GetPolicies: () => [policiesRecord(policies.config.policies.values(), (name) => policies.layersOf(name))],
      GetHiddenPolicies: () => [policiesRecord(policies.hiddenPolicies().values())],
      SetPolicy: ([name, dict]) => {
        const edit = policyInput(dict);
        return this.editPolicies(() => this.daemon.setPolicy(String(name), edit));
      },
      RemovePolicy: ([name]) => {
        const checked = processName(name);
        return this.editPolicies(async () => {
          if (!policies.config.policies.has(checked)) throw noPolicy(checked);
          await this.daemon.removePolicy(checked);
        });
      },
      ResetPolicy: ([name]) => {
        const checked = processName(name);
        return this.editPolicies(async () => {
          if (!(await this.daemon.resetPolicy(checked))) {
            throw new EngineError("UnknownProcess", `no policy, override or removal named "${checked}"; ${watchedPrograms(policies.config.policies.keys())}`);
          }
        });
      },
      GetHistory: ([name, since]) =>
        unit(name, (checked) => {
          const sinceMs = Number(BigInt(since as bigint) / MICROSECONDS_PER_MS);
          return [this.daemon.history.history(checked, sinceMs).map(([timeMs, cpu, rss]) => [BigInt(Math.round(timeMs)) * MICROSECONDS_PER_MS, cpu, rss])];
        }),
      GetEvents: ([since, limit]) => {
        const sinceMs = Number(BigInt(since as bigint) / MICROSECONDS_PER_MS);
        return [this.daemon.eventLog.read(sinceMs, Number(limit)).map(eventRecord)];
      },
    };
  }

  // Policy edits one at a time, so two concurrent calls cannot lose each other's change.
  private editPolicies(edit: () => Promise<void>): Promise<unknown[]> {
    const next = this.policyEdits.then(edit, edit);
    this.policyEdits = next.catch(() => undefined);
    return next.then(() => []);
  }

  // Ask the zombie monitor to clean up; ZombiesCleaned goes out from its event (or from here if it sent none).
  private async cleanupZombies(): Promise<unknown[]> {
    const seen = this.zombiesCleanedSeen;
    const { reaped, remaining } = await this.daemon.zombies.cleanup();
    if (this.zombiesCleanedSeen === seen) this.emitSignal("ZombiesCleaned", [uint32(reaped), uint32(remaining)]);
    return [uint32(reaped), uint32(remaining)];
  }

  // End one parent of zombies on request; ZombiesCleaned as for a cleanup.
  private async endZombieParent(ppid: number): Promise<unknown[]> {
    if (!Number.isInteger(ppid) || ppid <= 0) throw new InvalidArgsError(`EndZombieParent needs the PID of a zombie's parent, got ${ppid}`);
    const seen = this.zombiesCleanedSeen;
    const { reaped, remaining } = await this.daemon.zombies.endParent(ppid);
    if (this.zombiesCleanedSeen === seen) this.emitSignal("ZombiesCleaned", [uint32(reaped), uint32(remaining)]);
    return [uint32(reaped), uint32(remaining)];
  }

  private async ownerPid(): Promise<number | null> {
    try {
      const reply = await this.bus.call(
        new Message({
          destination: "org.freedesktop.DBus",
          path: "/org/freedesktop/DBus",
          interface: "org.freedesktop.DBus",
          member: "GetConnectionUnixProcessID",
          signature: "s",
          body: [BUS_NAME],
        }),
      );
      const pid: unknown = reply?.body[0];
      return typeof pid === "number" ? pid : null;
    } catch {
      return null;
    }
  }

  // ---- signals ----

  private onEvent(event: EngineEvent): void {
    this.scanViews = null;
    this.health.observe(event);
    switch (event.kind) {
      case "crashed": {
        const exitCode = event.statusKnown && event.exitCode !== null ? event.exitCode : -1;
        this.emitSignal("ProcessCrashed", [event.name, uint32(event.pid), int32(exitCode), event.signal ?? "", event.willRestart]);
        break;
      }
      case "restarted":
        this.emitSignal("ProcessRestarted", [event.name, uint32(event.oldPid), uint32(event.newPid), event.reason]);
        break;
      case "violation":
        this.emitSignal("ResourceViolation", [event.name, uint32(event.pid), event.resource, finiteOr0(event.value), finiteOr0(event.limit)]);
        break;
      case "anomaly":
        this.emitSignal("AnomalyDetected", [event.name, uint32(event.pid), event.type, anomalyDetails(event)]);
        break;
      case "cooldown-started":
        this.emitSignal("CooldownActivated", [event.name, uint32(event.restarts), finiteOr0(event.seconds)]);
        break;
      case "cooldown-ended":
        this.emitSignal("CooldownEnded", [event.name]);
        break;
      case "zombies-detected":
        this.emitSignal("ZombiesDetected", [uint32(event.count)]);
        break;
      case "zombies-cleaned":
        this.zombiesCleanedSeen += 1;
        this.emitSignal("ZombiesCleaned", [uint32(event.reaped), uint32(event.remaining)]);
        break;
      default:
        break;
    }
    this.emitSignal("EventLogged", [eventRecord(event)]);
    this.scheduleRefresh();
  }

  // Send one of the XML's signals; a signal the XML does not define is skipped.
  private emitSignal(name: string, body: unknown[]): void {
    if (this.stopping) return;
    const signal = this.spec.signals.get(name);
    if (!signal) return;
    try {
      this.bus.send(Message.newSignal(OBJECT_PATH, MANAGER_INTERFACE, name, signal.signature, body));
    } catch (error) {
      console.error(`selfheal: cannot send the ${name} signal:`, error);
    }
  }

  // ---- properties ----

  private propertyValues(): Record<string, string | number> {
    const units = this.scanViews ?? this.daemon.engine.list();
    this.scanViews = null;
    const now = Date.now();
    return {
      Version: VERSION,
      Health: this.assess(units, now),
      WatchedCount: units.length,
      ZombieCount: this.daemon.zombies.count,
      AnomalyCount: this.daemon.anomalies.list().length,
      CooldownCount: units.filter((unit) => unit.state === "cooldown" || unit.cooldownUntilMs > now).length,
      ConfigError: this.daemon.configError,
    };
  }

  private assess(units: readonly UnitView[], now: number): Health {
    return assessHealth({
      units,
      failedStarts: this.health.failedStarts,
      lastEnds: this.health.lastEnds,
      recentAnomalies: this.daemon.anomalies.countSince(now - RECENT_ANOMALY_MS),
      configRejected: this.daemon.policies.rejection !== null,
    });
  }

  private propertyVariants(values: Record<string, string | number>): Record<string, Variant> {
    const out: Record<string, Variant> = {};
    for (const property of this.spec.properties.values()) {
      const value = values[property.name];
      if (value !== undefined) out[property.name] = new Variant(property.type, value);
    }
    return out;
  }

  // Recompute the properties once the current burst of events is over; announce what changed.
  private scheduleRefresh(): void {
    if (this.refreshQueued || this.stopping) return;
    this.refreshQueued = true;
    // A promise's reaction, not queueMicrotask: Node.js wraps each queueMicrotask callback in an
    // AsyncResource (the async_hooks frames seen in the idle daemon's profile, once a scan).
    Promise.resolve()
      .then(() => {
        this.refreshQueued = false;
        this.refreshProperties();
      })
      .catch((error: unknown) => console.error("selfheal: cannot refresh the D-Bus properties:", error));
  }

  private refreshProperties(): void {
    if (this.stopping) return;
    const values = this.propertyValues();
    const changed: Record<string, string | number> = {};
    for (const [name, value] of Object.entries(values)) if (this.lastProperties[name] !== value) changed[name] = value;
    this.lastProperties = values;
    if (Object.keys(changed).length === 0) return;
    try {
      this.bus.send(
        Message.newSignal(OBJECT_PATH, STANDARD_INTERFACES.properties, "PropertiesChanged", "sa{sv}as", [MANAGER_INTERFACE, this.propertyVariants(changed), []]),
      );
    } catch (error) {
      console.error("selfheal: cannot send PropertiesChanged:", error);
    }
  }
}

type Reply = { signature: string; body: unknown[] } | { error: string; message: string };

function errorOf(error: string, message: string): Reply {
  return { error, message };
}

// A call of the Manager interface (or one without an interface) on our object.
function isManagerCall(msg: Message): boolean {
  return msg.path === OBJECT_PATH && (msg.interface === MANAGER_INTERFACE || !msg.interface);
}

function isPolicyEdit(msg: Message): boolean {
  return isManagerCall(msg) && POLICY_EDIT_METHODS.has(msg.member);
}

// A call that only reads: one of the Manager's read-only methods, or a property's value.
function isRead(msg: Message): boolean {
  if (isManagerCall(msg)) return READ_ONLY_METHODS.has(msg.member);
  return msg.path === OBJECT_PATH && msg.interface === STANDARD_INTERFACES.properties && (msg.member === "Get" || msg.member === "GetAll");
}

function noReplyExpected(msg: Message): boolean {
  return (Number(msg.flags) & MESSAGE_FLAG.noReplyExpected) !== 0;
}

function finiteOr0(value: number): number {
  return Number.isFinite(value) ? value : 0;
}

// The call must carry exactly the arguments the XML gives the method.
function expectSignature(msg: Message, member: string, expected: string, method?: MethodSpec): void {
  const got = msg.signature ?? "";
  if (got === expected) return;
  const wanted = method ? method.inArgs.map((arg) => `${arg.type} ${arg.name}`).join(", ") : expected;
  throw new InvalidArgsError(`${member} takes (${wanted}), got (${got.length > 64 ? `${got.slice(0, 64)}…` : got})`);
}

// A process name argument: well-formed, or InvalidArgs (a long or odd string is not echoed whole).
function processName(value: unknown): string {
  const name = String(value);
  if (NAME_PATTERN.test(name)) return name;
  throw new InvalidArgsError(
    `the process name must be 1 to 64 letters, digits or . _ @ + -, starting with a letter or digit; got ${name === "" ? "an empty string" : preview(name)}`,
  );
}

// Peer's Ping and GetMachineId, answered on every path we serve.
function routePeer(msg: Message, member: string): Reply {
  if (member === "Ping") {
    expectSignature(msg, "Ping", "");
    return { signature: "", body: [] };
  }
  if (member === "GetMachineId") {
    expectSignature(msg, "GetMachineId", "");
    for (const file of ["/etc/machine-id", "/var/lib/dbus/machine-id"]) {
      try {
        return { signature: "s", body: [readFileSync(file, "utf8").trim()] };
      } catch {
        // try the next place
      }
    }
    throw new EngineError("Failed", "this machine has no machine id (/etc/machine-id)");
  }
  return errorOf(DBUS_ERRORS.unknownMethod, `${STANDARD_INTERFACES.peer} has no method ${preview(member)}`);
}

// The child node to list when introspecting an ancestor of OBJECT_PATH, or null for any other path.
function childNodeOf(path: string): string | null {
  const parts = OBJECT_PATH.split("/").filter(Boolean);
  const asked = path === "/" ? [] : path.split("/").slice(1);
  if (asked.length >= parts.length || asked.some((part, index) => part !== parts[index])) return null;
  return parts[asked.length] ?? null;
}
