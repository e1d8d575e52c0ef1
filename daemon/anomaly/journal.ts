// The recent anomalies, most recent first, as ListAnomalies and AnomalyCount report them.
import type { EngineEvent, EventHub } from "../engine/events.js";

export type AnomalyEvent = Extract<EngineEvent, { kind: "anomaly" }>;

/** How many anomalies are kept in memory (older ones stay in the event log). */
export const ANOMALY_JOURNAL_SIZE = 200;

export class AnomalyJournal {
  private records: AnomalyEvent[] = [];

  constructor(events: EventHub, private readonly size = ANOMALY_JOURNAL_SIZE) {
    events.subscribe((event) => {
      if (event.kind === "anomaly") this.add(event);
    });
  }

  add(event: AnomalyEvent): void {
    this.records.unshift(event);
    if (this.records.length > this.size) this.records.length = this.size;
  }

  list(): readonly AnomalyEvent[] {
    return this.records;
  }

  /** Anomalies within the last `sinceMs` (for Health: a recent anomaly degrades it). */
  countSince(sinceMs: number): number {
    return this.records.filter((record) => record.timeMs >= sinceMs).length;
  }
}
