// What holds the idle daemon's V8 heap: the daemon as users start it, 50
// running programs with CPU and memory limits, 1 s scans; after it has run a
// while, a heap snapshot (--heapsnapshot-signal), summed by what the objects
// are (node type and constructor or string kind), largest self size first.
//
//   node --import tsx bench/heap.ts [--warm 30]
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { killQuietly, makeTestDir, startDaemon, uniqueSleep, waitFor } from "../test/helpers/daemon.js";

const WATCHED = 50;
const TOP = 30;
const STARTS_TIMEOUT_MS = 120_000;
const SNAPSHOT_TIMEOUT_MS = 60_000;
const KB = 1024;

interface HeapSnapshot {
  snapshot: { meta: { node_fields: string[]; node_types: [string[], ...unknown[]] } };
  nodes: number[];
  strings: string[];
}

// Self size by (type, name) of a .heapsnapshot; names of strings and code are folded into their type.
export function summariseHeap(file: string): { total: number; rows: Array<{ what: string; bytes: number; count: number }> } {
  const heap = JSON.parse(readFileSync(file, "utf8")) as HeapSnapshot;
  const fields = heap.snapshot.meta.node_fields;
  const types = heap.snapshot.meta.node_types[0];
  const [typeAt, nameAt, sizeAt] = [fields.indexOf("type"), fields.indexOf("name"), fields.indexOf("self_size")];
  const groups = new Map<string, { bytes: number; count: number }>();
  let total = 0;
  for (let i = 0; i < heap.nodes.length; i += fields.length) {
    const type = types[heap.nodes[i + typeAt]!]!;
    const size = heap.nodes[i + sizeAt]!;
    const named = type === "object" || type === "closure" || type === "native" || type === "hidden";
    const what = named ? `${type} ${heap.strings[heap.nodes[i + nameAt]!]!.slice(0, 60)}` : type;
    const group = groups.get(what) ?? { bytes: 0, count: 0 };
    group.bytes += size;
    group.count++;
    groups.set(what, group);
    total += size;
  }
  const rows = [...groups].map(([what, g]) => ({ what, ...g })).sort((a, b) => b.bytes - a.bytes);
  return { total, rows };
}

export async function benchHeap(warmSeconds: number): Promise<void> {
  const dir = makeTestDir("bench-heap");
  const snapshots = mkdtempSync(join(tmpdir(), "selfheal-heap-"));
  const policies = Array.from({ length: WATCHED }, (_, i) => {
    const program = uniqueSleep(dir, `heap${i}`);
    return `[process.heap${i}]\ncommand = ["${program}", "3600"]\nautostart = true\ncpu_limit = 90\nmemory_limit_mb = 500\n`;
  }).join("\n");
  const daemon = await startDaemon(`[settings]\ninterval = 1.0\n\n${policies}`, { dir, nodeFlags: ["--heapsnapshot-signal=SIGUSR2", `--diagnostic-dir=${snapshots}`] });
  try {
    await waitFor(() => daemon.events().filter((e) => e.kind === "started").length >= WATCHED, STARTS_TIMEOUT_MS, () => "programs did not start");
    await new Promise((r) => setTimeout(r, warmSeconds * 1000));
    const status = readFileSync(`/proc/${daemon.process.pid}/status`, "latin1");
    daemon.process.kill("SIGUSR2");
    const file = (): string | undefined => readdirSync(snapshots).find((name) => name.endsWith(".heapsnapshot"));
    // Written in one go by the main thread; its size stops changing once done.
    let last = -1;
    await waitFor(
      () => {
        const name = file();
        if (name === undefined) return false;
        const size = readFileSync(join(snapshots, name)).length;
        const done = size === last && size > 0;
        last = size;
        return done;
      },
      SNAPSHOT_TIMEOUT_MS,
      () => "no heap snapshot",
    );
    const { total, rows } = summariseHeap(join(snapshots, file()!));
    const rss = /VmRSS:\s+(\d+)/.exec(status)?.[1];
    console.log(`\nthe daemon's V8 heap after ${warmSeconds} s at rest, ${WATCHED} programs (RSS before the snapshot ${(Number(rss) / KB).toFixed(1)} MB): ${(total / KB / KB).toFixed(2)} MB of live objects`);
    for (const row of rows.slice(0, TOP)) console.log(`${(row.bytes / KB).toFixed(0).padStart(8)} KiB ${String(row.count).padStart(7)}  ${row.what}`);
  } finally {
    const started = daemon.events().flatMap((e) => (e.kind === "started" ? [e.pid] : []));
    await daemon.cleanup();
    killQuietly(started);
    rmSync(snapshots, { recursive: true, force: true });
  }
}

if (import.meta.filename === process.argv[1]) {
  const { values } = parseArgs({ options: { warm: { type: "string" } } });
  await benchHeap(Number(values.warm ?? 30));
}
