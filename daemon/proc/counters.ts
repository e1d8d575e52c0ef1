// Two of the kernel's whole-system counters, read for the sentinels ten times
// a second: the forks since boot (`processes` in /proc/stat) and the memory
// available (`MemAvailable` in /proc/meminfo). Each file is opened once and
// read again from offset 0 into one reused buffer: one system call a look.
import { closeSync, openSync, readSync } from "node:fs";

export interface SystemCounters {
  /** Processes and threads created since boot, or null when it cannot be read. */
  forksSinceBoot(): number | null;
  /** Memory available for new allocations without swapping, bytes, or null when it cannot be read. */
  availableMemoryBytes(): number | null;
}

/** Big enough for /proc/stat on machines with many CPUs (its `intr` line grows with them); it is read again if not. */
const INITIAL_BUFFER_BYTES = 16 * 1024;
const BYTES_PER_KB = 1024;

export class ProcCounters implements SystemCounters {
  private buffer = Buffer.alloc(INITIAL_BUFFER_BYTES);
  private readonly fds = new Map<string, number | null>();

  constructor(private readonly procRoot = "/proc") {}

  forksSinceBoot(): number | null {
    return this.field("stat", "\nprocesses ");
  }

  availableMemoryBytes(): number | null {
    const kb = this.field("meminfo", "\nMemAvailable:");
    return kb === null ? null : kb * BYTES_PER_KB;
  }

  close(): void {
    for (const fd of this.fds.values()) if (fd !== null) closeSync(fd);
    this.fds.clear();
  }

  // The number after `key` in the file, or null when the file or the key is not there.
  private field(file: string, key: string): number | null {
    const text = this.read(file);
    if (text === null) return null;
    const at = text.indexOf(key);
    if (at === -1) return null;
    const value = Number.parseInt(text.slice(at + key.length, text.indexOf("\n", at + key.length)).trim(), 10);
    return Number.isFinite(value) ? value : null;
  }

  // The whole file, read from offset 0 through the fd kept open (the kernel renders it afresh).
  private read(file: string): string | null {
    let fd = this.fds.get(file);
    if (fd === undefined) {
      try {
        fd = openSync(`${this.procRoot}/${file}`, "r");
      } catch {
        fd = null;
      }
      this.fds.set(file, fd);
    }
    if (fd === null) return null;
    try {
      for (;;) {
        const length = readSync(fd, this.buffer, 0, this.buffer.length, 0);
        if (length < this.buffer.length) return this.buffer.toString("latin1", 0, length);
        this.buffer = Buffer.alloc(this.buffer.length * 2);
      }
    } catch {
      return null;
    }
  }
}
