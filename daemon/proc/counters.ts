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
/** The keys start a line; neither is ever the file's first. */
const FORKS_KEY = Buffer.from("\nprocesses ", "latin1");
const AVAILABLE_KEY = Buffer.from("\nMemAvailable:", "latin1");
const CHAR_0 = 0x30;
const CHAR_9 = 0x39;
const CHAR_SPACE = 0x20;
const CHAR_TAB = 0x09;

export class ProcCounters implements SystemCounters {
  private buffer = Buffer.alloc(INITIAL_BUFFER_BYTES);
  private readonly fds = new Map<string, number | null>();

  constructor(private readonly procRoot = "/proc") {}

  forksSinceBoot(): number | null {
    return this.field("stat", FORKS_KEY);
  }

  availableMemoryBytes(): number | null {
    const kb = this.field("meminfo", AVAILABLE_KEY);
    return kb === null ? null : kb * BYTES_PER_KB;
  }

  close(): void {
    for (const fd of this.fds.values()) if (fd !== null) closeSync(fd);
    this.fds.clear();
  }

  // The number after `key` in the file, or null when the file or the key is not there.
  // Found and parsed in the buffer: ten looks a second make no strings.
  private field(file: string, key: Buffer): number | null {
    const length = this.read(file);
    if (length === null) return null;
    const buffer = this.buffer;
    const at = buffer.indexOf(key);
    // The buffer may hold an older, longer read beyond `length`.
    if (at === -1 || at + key.length > length) return null;
    let i = at + key.length;
    while (i < length && (buffer[i] === CHAR_SPACE || buffer[i] === CHAR_TAB)) i++;
    let value = 0;
    const first = i;
    for (; i < length && buffer[i]! >= CHAR_0 && buffer[i]! <= CHAR_9; i++) value = value * 10 + (buffer[i]! - CHAR_0);
    return i > first ? value : null;
  }

  // The whole file, read from offset 0 through the fd kept open (the kernel renders it afresh): its length in the buffer.
  private read(file: string): number | null {
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
        if (length < this.buffer.length) return length;
        this.buffer = Buffer.alloc(this.buffer.length * 2);
      }
    } catch {
      return null;
    }
  }
}
