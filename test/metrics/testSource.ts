// A metrics source whose figures a test sets, and whose events and scans it sends.
import type { EngineEvent, EventListener } from "../../daemon/engine/events.js";
import type { UnitView } from "../../daemon/engine/unit.js";
import type { MetricsSource, NotificationCounts, ScanFigures } from "../../daemon/metrics/source.js";

export { unitView as view } from "../helpers/fakes.js";

/** A source whose figures the test sets, and whose events and scans it sends. */
export class TestSource implements MetricsSource {
  readonly version = "9.8.7";
  views: UnitView[] = [];
  zombies = 0;
  calls = new Map<string, number>();
  writeErrors = 0;
  /** Desktop-file ids of the policies that watch an app. */
  apps = new Map<string, string>();
  counts: NotificationCounts[] = [
    { channel: "email", sent: 0, suppressed: 0 },
    { channel: "desktop", sent: 0, suppressed: 0 },
  ];
  private readonly listeners = new Set<EventListener>();
  private readonly observers = new Set<(scan: ScanFigures) => void>();

  units = () => this.views;
  appOf = (name: string) => this.apps.get(name) ?? null;
  subscribe = (listener: EventListener) => (this.listeners.add(listener), () => this.listeners.delete(listener));
  onScan = (observer: (scan: ScanFigures) => void) => (this.observers.add(observer), () => this.observers.delete(observer));
  zombieCount = () => this.zombies;
  busCalls = () => this.calls;
  eventLogWriteErrors = () => this.writeErrors;
  notifications = () => this.counts;

  scan(figures: ScanFigures): void {
    for (const observer of this.observers) observer(figures);
  }

  emit(event: EngineEvent): void {
    for (const listener of this.listeners) listener(event);
  }
}

