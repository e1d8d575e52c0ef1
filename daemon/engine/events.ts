// The engine's typed events. Adapters (event log, D-Bus service, notifiers)
// subscribe to these; the engine knows nothing of them.

interface EventBase {
  /** Milliseconds since the epoch. */
  timeMs: number;
  /** A sentence for people, as written to the event log. */
  message: string;
}

/** What an end of a watched process tells. */
interface ExitFields {
  name: string;
  pid: number;
  /** Exit code, or null when a signal ended it or the status is unknown. */
  exitCode: number | null;
  signal: string | null;
  /** False for an adopted process: its status cannot be known. */
  statusKnown: boolean;
  willRestart: boolean;
}

export type StartReason = "autostart" | "request" | "crash" | "exit" | "violation" | "anomaly" | "cooldown-ended";

export type EngineEvent = EventBase &
  (
    | { kind: "started"; name: string; pid: number; reason: StartReason }
    | { kind: "adopted"; name: string; pid: number }
    /** A program an earlier run of the daemon started, found again through its keeper: still selfheal's own. */
    | { kind: "reattached"; name: string; pid: number; keeperPid: number }
    /** The program exited 0 and left this process running (it forked away): the process is the program now. */
    | { kind: "followed"; name: string; oldPid: number; newPid: number; managed: boolean }
    /** Programs are started without a keeper (none was built, or --no-keeper): their protection ends with the daemon. */
    | { kind: "keeper-unavailable"; reason: string }
    | { kind: "start-failed"; name: string; error: string }
    | ({ kind: "exited" } & ExitFields)
    | ({ kind: "crashed" } & ExitFields)
    | { kind: "restarted"; name: string; oldPid: number; newPid: number; reason: StartReason }
    | { kind: "stopped"; name: string; pid: number; forced: boolean }
    | {
        kind: "violation";
        name: string;
        pid: number;
        resource: "cpu" | "memory";
        value: number;
        limit: number;
        action: "restart" | "kill" | "notify";
      }
    | { kind: "cooldown-started"; name: string; restarts: number; seconds: number; untilMs: number }
    | { kind: "cooldown-ended"; name: string }
    | {
        kind: "config-reloaded";
        file: string;
        added: string[];
        removed: string[];
        changed: string[];
        /** What the overrides set over D-Bus shadow in config.toml, one sentence each. */
        shadowed: string[];
      }
    | { kind: "config-rejected"; file: string; error: string }
    /** A signal the guard refused: the process is let go, and never acted on again. */
    | { kind: "protected"; name: string; pid: number; reason: string }
    /** A policy's match names only processes the guard protects: none is adopted (told once per policy). */
    | { kind: "protected-match"; name: string; pid: number; reason: string }
    /** A signal that failed for another reason than protection (told, never thrown). */
    | { kind: "action-failed"; name: string; pid: number; action: string; error: string }
    /** A bug caught before it could end the daemon: where it happened and the error with its stack. */
    | { kind: "internal-error"; where: string; error: string }
    | {
        kind: "anomaly";
        /** The policy's name, or the program's comm under the global watch. */
        name: string;
        pid: number;
        type: AnomalyType;
        /** What was seen, for people: "RSS grew 5.1 MB/s for 8 s (r² 0.99)". */
        detail: string;
        /** What was done: "notified", "restarted", "contained 200 processes". */
        action: string;
        /** The detector's figures (slope, r², descendants, baseline...). */
        figures: Record<string, number>;
      }
    | { kind: "zombies-detected"; count: number; newPids: number[] }
    | { kind: "zombies-cleaned"; reaped: number; remaining: number }
  );

export type AnomalyType = "memory_leak" | "fork_bomb" | "cpu_spike";

export type EventListener = (event: EngineEvent) => void;

/** A minimal typed publish/subscribe hub. */
export class EventHub {
  private listeners = new Set<EventListener>();

  subscribe(listener: EventListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  // Deliver to every subscriber; one failing adapter must not stop the others or the engine.
  emit(event: EngineEvent): void {
    for (const listener of this.listeners) {
      try {
        listener(event);
      } catch (error) {
        console.error(`selfheal: an event subscriber failed on ${event.kind}:`, error);
      }
    }
  }
}
