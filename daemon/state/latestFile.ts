// The one writer of a state file that always holds the newest state handed to
// it. Writes in the background coalesce (while one runs, only the newest of
// the states given meanwhile is written next); a synchronous write (at
// shutdown) lands at once. However the writes finish, an older state never
// replaces a newer one: the slow part of a background write (data and fsync)
// runs off the main thread, but its rename runs on it, after a check that no
// newer state has landed meanwhile; a stale write removes its temporary file.
import { renameSync, rmSync } from "node:fs";
import { dirname } from "node:path";
import { syncDir, writeFileAtomicSync, writeTempFile, type AtomicWriteOptions } from "./atomic.js";

export class LatestFileWriter {
  /** The number of the newest state handed in; each write carries its own. */
  private handedIn = 0;
  /** The number of the state on disk (0: none written by this writer). */
  private landed = 0;
  private pending: { data: string; number: number } | null = null;
  /** A background write is under way (cleared in the same step that finds nothing more to write). */
  private busy = false;
  private draining: Promise<void> = Promise.resolve();

  constructor(
    readonly path: string,
    /** Told of a failed background write (the previous whole file stays; the next write tries again). */
    private readonly onError: (error: Error) => void,
    /** The new file's permission bits (owner only by default). */
    private readonly fileOptions: AtomicWriteOptions = {},
  ) {}

  // Write `data` in the background; returns at once.
  write(data: string): void {
    this.pending = { data, number: ++this.handedIn };
    if (this.busy) return;
    this.busy = true;
    this.draining = this.drain();
  }

  // Write `data` now and return once it is on disk; a background write still under way will not replace it.
  writeSync(data: string): void {
    const number = ++this.handedIn;
    writeFileAtomicSync(this.path, data, this.fileOptions);
    this.landed = number;
    this.pending = null;
  }

  // Resolves once no background write is under way (the daemon's stop leaves no temporary file behind).
  async idle(): Promise<void> {
    await this.draining;
  }

  private async drain(): Promise<void> {
    try {
      while (this.pending !== null) {
        const { data, number } = this.pending;
        this.pending = null;
        try {
          await this.writeOne(data, number);
        } catch (error) {
          this.onError(error instanceof Error ? error : new Error(String(error)));
        }
      }
    } finally {
      this.busy = false;
    }
  }

  private async writeOne(data: string, number: number): Promise<void> {
    const temp = await writeTempFile(this.path, data, this.fileOptions);
    // From here to the rename nothing awaits: no other write can land in between.
    if (number < this.landed) {
      rmSync(temp, { force: true });
      return;
    }
    try {
      renameSync(temp, this.path);
    } catch (error) {
      rmSync(temp, { force: true });
      throw error;
    }
    this.landed = number;
    if (this.fileOptions.sync !== false) await syncDir(dirname(this.path));
  }
}
