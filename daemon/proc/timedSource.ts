// A process source that times its scans: the daemon's own figures (the
// metrics' scan duration histogram) without the engine knowing of them.
import { performance } from "node:perf_hooks";
import type { PeekFresh, ProcessSnapshot, ProcessSource } from "./types.js";

const MS_PER_SEC = 1000;

export class TimedSource implements ProcessSource {
  /** How long the last scan() took, seconds (0 before the first). */
  lastScanSec = 0;
  readonly peek?: (fresh?: PeekFresh) => ProcessSnapshot;
  readonly selfPid: number;

  constructor(private readonly inner: ProcessSource) {
    this.selfPid = inner.selfPid;
    if (inner.peek) this.peek = (fresh) => inner.peek!(fresh);
  }

  scan(focus?: ReadonlySet<number>): ProcessSnapshot {
    const start = performance.now();
    const snapshot = this.inner.scan(focus);
    this.lastScanSec = (performance.now() - start) / MS_PER_SEC;
    return snapshot;
  }

  readCmdline(pid: number): string[] | null {
    return this.inner.readCmdline(pid);
  }

  readExeName(pid: number): string | null {
    return this.inner.readExeName(pid);
  }
}
