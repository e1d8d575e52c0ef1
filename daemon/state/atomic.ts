// Replace a file's contents atomically: readers see the old file or the new
// one, never a half-written one, and a crash or power cut keeps one of the two.
// The data goes to a temporary file in the same directory, is flushed to disk,
// renamed over the target, and the directory entry is flushed too.
import { closeSync, fsyncSync, mkdirSync, openSync, readdirSync, renameSync, rmSync, statSync, writeSync } from "node:fs";
import { mkdir, open, rename, rm } from "node:fs/promises";
import { basename, dirname, join, resolve } from "node:path";
import { readStatLine } from "../proc/statLine.js";

const PROC_ROOT = "/proc";

/** Files selfheal writes hold state that is nobody else's business. */
export const DEFAULT_FILE_MODE = 0o600;

export interface AtomicWriteOptions {
  /** Permission bits of the new file; defaults to owner read/write only. */
  mode?: number;
  /** false: not flushed to disk (a file rewritten every second whose loss in a power cut costs nothing). */
  sync?: boolean;
  /**
   * "after": the write resolves once the file is renamed in place, and the directory entry is
   * flushed after that, in the background. The file's data is flushed before the rename all the
   * same, so a killed daemon or a power cut still leaves the old file or the new one, whole; a
   * power cut in the milliseconds before the entry's flush may leave the old one. For a write
   * someone waits on (a D-Bus edit's reply).
   */
  flushDirectory?: "await" | "after";
}

let tempCounter = 0;

/** Our temporary files: ".NAME.PID.COUNTER.tmp" (tempPathFor), the writer's pid in the name. */
const TEMP_NAME = /^\..+\.(\d+)\.\d+\.tmp$/;
/** A write takes milliseconds: a temporary file older than this was left behind, whatever its pid now names. */
const STALE_TEMP_MS = 60_000;

// A temporary name beside `path`, unique within this machine's processes, hidden from `ls`.
function tempPathFor(path: string): string {
  tempCounter += 1;
  return join(dirname(path), `.${basename(path)}.${process.pid}.${tempCounter}.tmp`);
}

// Flush a directory's entries so a rename inside it survives a crash.
function fsyncDirSync(dir: string): void {
  let fd: number | null = null;
  try {
    fd = openSync(dir, "r");
    fsyncSync(fd);
  } catch {
    // Some file systems refuse fsync on directories; the rename is still atomic.
  } finally {
    if (fd !== null) closeSync(fd);
  }
}

// Write `data` to `path` atomically, blocking; for start-up and shutdown paths.
export function writeFileAtomicSync(path: string, data: string | Uint8Array, options: AtomicWriteOptions = {}): void {
  const dir = dirname(path);
  mkdirSync(dir, { recursive: true });
  const temp = tempPathFor(path);
  try {
    const fd = openSync(temp, "wx", options.mode ?? DEFAULT_FILE_MODE);
    try {
      const bytes = typeof data === "string" ? Buffer.from(data, "utf8") : data;
      let written = 0;
      while (written < bytes.length) written += writeSync(fd, bytes, written, bytes.length - written);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(temp, path);
  } catch (error) {
    rmSync(temp, { force: true });
    throw error;
  }
  fsyncDirSync(dir);
}

/** The last pending write per path, so writes to one file land in call order. */
const pendingWrites = new Map<string, Promise<void>>();

// One asynchronous atomic write, not ordered against others.
async function writeOnce(path: string, data: string | Uint8Array, options: AtomicWriteOptions): Promise<void> {
  const temp = await writeTempFile(path, data, options);
  try {
    await rename(temp, path);
  } catch (error) {
    await rm(temp, { force: true });
    throw error;
  }
  if (options.flushDirectory === "after") void syncDir(dirname(path)).catch(() => undefined);
  else await syncDir(dirname(path));
}

// Write `data` to a new temporary file beside `path` and flush it to disk,
// without blocking; returns its name, for the caller to rename over `path`
// (or remove). A failed write leaves no temporary file.
export async function writeTempFile(path: string, data: string | Uint8Array, options: AtomicWriteOptions = {}): Promise<string> {
  await mkdir(dirname(path), { recursive: true });
  const temp = tempPathFor(path);
  try {
    const handle = await open(temp, "wx", options.mode ?? DEFAULT_FILE_MODE);
    try {
      await handle.writeFile(data);
      if (options.sync !== false) await handle.sync();
    } finally {
      await handle.close();
    }
  } catch (error) {
    await rm(temp, { force: true });
    throw error;
  }
  return temp;
}

// Flush a directory's entries without blocking, so a rename inside it survives a crash.
export async function syncDir(dir: string): Promise<void> {
  const dirHandle = await open(dir, "r").catch(() => null);
  if (dirHandle) await dirHandle.sync().catch(() => undefined).finally(() => dirHandle.close());
}

// Write `data` to `path` atomically without blocking the event loop; writes to one path keep their order.
export function writeFileAtomic(path: string, data: string | Uint8Array, options: AtomicWriteOptions = {}): Promise<void> {
  const key = resolve(path);
  const previous = pendingWrites.get(key) ?? Promise.resolve();
  const next = previous.catch(() => undefined).then(() => writeOnce(path, data, options));
  pendingWrites.set(key, next);
  const forget = () => {
    if (pendingWrites.get(key) === next) pendingWrites.delete(key);
  };
  next.then(forget, forget);
  return next;
}

// True while a process with this pid exists (of any user) and can still write: a zombie, a
// writer killed whose parent has not reaped it yet (a daemon killed just before the next one
// starts), is gone.
function processExists(pid: number): boolean {
  const stat = readStatLine(PROC_ROOT, pid);
  return stat !== null && stat.state !== "Z" && stat.state !== "X";
}

// Remove the temporary files that interrupted writes (a kill -9 between open and rename) left in `dir`:
// ours by their name, and either their writer is gone or they are older than any write takes.
// A write under way in another process is left alone. Returns the names removed.
export function removeStaleTempFiles(dir: string, nowMs: number = Date.now()): string[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  const removed: string[] = [];
  for (const name of names) {
    const writer = TEMP_NAME.exec(name)?.[1];
    if (writer === undefined) continue;
    const path = join(dir, name);
    try {
      const stale = !processExists(Number(writer)) || nowMs - statSync(path).mtimeMs > STALE_TEMP_MS;
      if (!stale) continue;
      rmSync(path, { force: true });
      removed.push(name);
    } catch {
      // gone meanwhile, or not ours to remove: left as it is
    }
  }
  return removed;
}
