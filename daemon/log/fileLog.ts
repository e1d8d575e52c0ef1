// The daemon's log when no journal takes it (`selfheal daemon --log-file`: what the D-Bus
// activation file and install.sh run without systemd): what the daemon writes to stdout and
// stderr goes, one timestamped line at a time, to $XDG_STATE_HOME/selfheal/daemon.log, rotated at
// a size limit into daemon.log.1. Under systemd the unit runs the daemon without it, and the
// journal keeps its output.
import { appendFileSync, mkdirSync, renameSync, statSync } from "node:fs";
import { dirname } from "node:path";

export const DAEMON_LOG_NAME = "daemon.log";
export const DAEMON_LOG_MAX_BYTES = 1024 * 1024;

type Write = typeof process.stderr.write;

export class FileLog {
  private size: number;
  private failing = false;

  constructor(
    readonly path: string,
    private readonly maxBytes = DAEMON_LOG_MAX_BYTES,
    private readonly now: () => Date = () => new Date(),
  ) {
    mkdirSync(dirname(path), { recursive: true });
    this.size = fileSize(path);
  }

  // Append text, each line stamped with the time; a full disk or a read-only folder loses the
  // lines, never the daemon.
  write(text: string): void {
    const stamp = this.now().toISOString();
    const lines = text.replace(/\n$/, "").split("\n").map((line) => `${stamp} ${line}\n`).join("");
    const bytes = Buffer.byteLength(lines);
    try {
      // The limit is in bytes, as the event log's.
      if (this.size > 0 && this.size + bytes > this.maxBytes) {
        renameSync(this.path, `${this.path}.1`);
        this.size = 0;
      }
      appendFileSync(this.path, lines);
      this.size += bytes;
      this.failing = false;
    } catch {
      // Said nowhere else: stderr is the file that fails. Try again with the next line.
      if (!this.failing) this.size = fileSize(this.path);
      this.failing = true;
    }
  }

  // From now on, what the process writes to stdout and stderr (console.log, console.error) goes here.
  captureStandardStreams(): void {
    const capture = (chunk: unknown, encodingOrDone?: unknown, done?: unknown): boolean => {
      const text = typeof chunk === "string" ? chunk : Buffer.from(chunk as Uint8Array).toString("utf8");
      this.write(text);
      const callback = typeof encodingOrDone === "function" ? encodingOrDone : done;
      if (typeof callback === "function") queueMicrotask(() => (callback as () => void)());
      return true;
    };
    process.stdout.write = capture as Write;
    process.stderr.write = capture as Write;
  }
}

function fileSize(path: string): number {
  try {
    return statSync(path).size;
  } catch {
    return 0;
  }
}
