// Reading a config or state file no larger than a cap, and describing sizes
// in messages: an oversized file is refused from its size, never read whole.
import { closeSync, fstatSync, openSync, readSync } from "node:fs";

const KIB = 1024;
const MIB = KIB * KIB;

/** A file larger than the cap; `message` says both sizes. */
export class FileTooLargeError extends Error {
  override readonly name = "FileTooLargeError";
  constructor(
    readonly size: number,
    readonly limit: number,
  ) {
    super(`the file is ${size} bytes; at most ${formatBytes(limit)} are read`);
  }
}

// A byte count as "1048576 (1 MB)": the exact figure, and the round one people think in, in
// selfheal's one unit system (binary: 1 MB = 1024 KB = 1024 × 1024 bytes).
export function formatBytes(bytes: number): string {
  if (bytes >= MIB && bytes % MIB === 0) return `${bytes} (${bytes / MIB} MB)`;
  if (bytes >= KIB && bytes % KIB === 0) return `${bytes} (${bytes / KIB} KB)`;
  return String(bytes);
}

// Read a UTF-8 file of at most `limit` bytes; throws FileTooLargeError (without reading it) when it is larger,
// and the usual errno errors (ENOENT, EACCES) when it cannot be opened.
export function readFileCapped(path: string, limit: number): string {
  const fd = openSync(path, "r");
  try {
    const size = fstatSync(fd).size;
    if (size > limit) throw new FileTooLargeError(size, limit);
    // The file may grow between the stat and the read: read until its end, or one byte past the cap.
    const buffer = Buffer.allocUnsafe(limit + 1);
    let length = 0;
    while (length < buffer.length) {
      const read = readSync(fd, buffer, length, buffer.length - length, null);
      if (read === 0) break;
      length += read;
    }
    if (length > limit) throw new FileTooLargeError(Math.max(length, fstatSync(fd).size), limit);
    return buffer.toString("utf8", 0, length);
  } finally {
    closeSync(fd);
  }
}
