// What the metrics read, and nothing more: the engine's views and events, the
// figures of each scan as it happens, and the daemon's own counters. The
// daemon implements this port (daemon.ts), as it gives the D-Bus service its
// figures; the metrics never scan /proc and never call the engine to act.
import type { EventListener } from "../engine/events.js";
import type { UnitView } from "../engine/unit.js";
import type { ProcessSnapshot } from "../proc/types.js";

/** One scan as it was made: the snapshot the policies were applied to, and how long reading /proc took. */
export interface ScanFigures {
  snapshot: ProcessSnapshot;
  durationSec: number;
}

/** One notification channel's counts since the daemon started. */
export interface NotificationCounts {
  channel: "email" | "desktop";
  /** Handed to the mail server or the notification server and accepted. */
  sent: number;
  /** Held back by the rate limit (summarised in a digest later). */
  suppressed: number;
}

export interface MetricsSource {
  readonly version: string;
  /** The policies' programs as of the last scan (no scan is made for this). */
  units(): readonly UnitView[];
  /** The desktop-file id of a policy that watches an app (its `app` key), null for the others. */
  appOf(name: string): string | null;
  subscribe(listener: EventListener): () => void;
  /** Called after every scan, once the engine has applied the policies to it. */
  onScan(observer: (scan: ScanFigures) => void): () => void;
  zombieCount(): number;
  /** Calls answered by the D-Bus service, by method name (only the interface's own methods). */
  busCalls(): ReadonlyMap<string, number>;
  eventLogWriteErrors(): number;
  notifications(): readonly NotificationCounts[];
}
