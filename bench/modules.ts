// Where the daemon's memory goes, by module: Node.js alone, then each
// dependency the bundle loads at start, imported one after another in a fresh
// Node.js with the daemon's #! flags (resident memory and V8 heap after a full
// collection), then the built daemon itself; and the bundle's bytes by package
// (the build's metafile, dist/selfheal.meta.json), which is source V8 keeps in memory.
//
//   node build.mjs && node --import tsx bench/modules.ts
import { execFileSync } from "node:child_process";
import { readFile } from "node:fs/promises";
import { resolve } from "node:path";
import { daemonNodeFlags, daemonShebangEnv } from "../test/helpers/command.js";

const REPO = resolve(import.meta.dirname, "..");
const MIB = 1024 * 1024;
/**
 * Packages the daemon bundles: those its start loads (dbus-next here with the XML libraries the build leaves
 * out of the daemon), then those loaded when needed (re2js with the first /regex/, smol-toml's writer, nodemailer
 * with the first mail), then zod's classic API, which the daemon no longer loads, for comparison. Each stage
 * imports its own and all before it.
 */
const PACKAGES = ["dbus-next", "zod/mini", "toml-eslint-parser", "re2js", "smol-toml", "nodemailer", "zod"];

interface Metafile {
  outputs: Record<string, { imports: Array<{ path: string; kind: string }>; inputs: Record<string, { bytesInOutput: number }> }>;
}

interface Usage {
  rss: number;
  heapUsed: number;
}

// RSS and heap of a fresh Node.js (the daemon's flags) after it ran `code` and collected its garbage.
function usageAfter(code: string): Usage {
  const report = `globalThis.gc(); globalThis.gc(); const u = process.memoryUsage(); console.log(JSON.stringify({ rss: u.rss, heapUsed: u.heapUsed }));`;
  const out = execFileSync(process.execPath, [...daemonNodeFlags(), "--input-type=module", "-e", `${code}\n${report}`], {
    cwd: REPO,
    env: { ...process.env, ...daemonShebangEnv() },
    encoding: "utf8",
  });
  return JSON.parse(out.trim().split("\n").at(-1)!) as Usage;
}

// The median of three fresh runs, so that one noisy start does not decide.
function medianUsage(code: string): Usage {
  const runs = [usageAfter(code), usageAfter(code), usageAfter(code)];
  const mid = (pick: (u: Usage) => number): number => runs.map(pick).sort((a, b) => a - b)[1]!;
  return { rss: mid((u) => u.rss), heapUsed: mid((u) => u.heapUsed) };
}

/** The chunk `selfheal daemon` loads first (build.mjs names chunks after their entry module). */
const DAEMON_CHUNK = /daemonCommand-[^/]*\.js$/;

// Bytes of source by package (selfheal's own code as "selfheal") in the build
// (`npm run bench` builds first; build.mjs writes its metafile): all of it, and
// what the daemon loads (the entry, the daemon command's chunk and every chunk
// those import statically).
async function bundleBytesByPackage(): Promise<{ all: Map<string, number>; daemon: Map<string, number> }> {
  const metafile = JSON.parse(await readFile(resolve(REPO, "dist/selfheal.meta.json"), "utf8")) as Metafile;
  const outputs = metafile.outputs;
  const loaded = new Set<string>();
  const visit = (path: string): void => {
    if (loaded.has(path) || outputs[path] === undefined) return;
    loaded.add(path);
    for (const { path: imported, kind } of outputs[path].imports) if (kind === "import-statement") visit(imported);
  };
  for (const path of Object.keys(outputs)) if (path.endsWith("/selfheal.js") || DAEMON_CHUNK.test(path)) visit(path);
  const all = new Map<string, number>();
  const daemon = new Map<string, number>();
  for (const [outputPath, output] of Object.entries(outputs)) {
    for (const [path, { bytesInOutput }] of Object.entries(output.inputs)) {
      const match = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(path);
      const name = match ? match[1]! : "selfheal";
      all.set(name, (all.get(name) ?? 0) + bytesInOutput);
      if (loaded.has(outputPath)) daemon.set(name, (daemon.get(name) ?? 0) + bytesInOutput);
    }
  }
  return { all, daemon };
}

export async function benchModules(): Promise<void> {
  const mb = (bytes: number): string => (bytes / MIB).toFixed(1).padStart(6);
  const delta = (bytes: number): string => `${bytes >= 0 ? "+" : ""}${(bytes / MIB).toFixed(1)}`.padStart(6);
  console.log(`\nmemory by module: a fresh Node.js with the daemon's flags, each package imported after those above it (median of 3)`);
  console.log("stage                                     RSS MB  (+MB)   heap MB  (+MB)");
  let previous = medianUsage("");
  console.log(`${"Node.js alone".padEnd(40)} ${mb(previous.rss)}         ${mb(previous.heapUsed)}`);
  const imports: string[] = [];
  for (const name of PACKAGES) {
    imports.push(`await import(${JSON.stringify(name)});`);
    const usage = medianUsage(imports.join(" "));
    console.log(`${`+ ${name}`.padEnd(40)} ${mb(usage.rss)} ${delta(usage.rss - previous.rss)}   ${mb(usage.heapUsed)} ${delta(usage.heapUsed - previous.heapUsed)}`);
    previous = usage;
  }
  const { all, daemon } = await bundleBytesByPackage();
  const kib = (bytes: number): string => (bytes / 1024).toFixed(0).padStart(8);
  const total = (bytes: Map<string, number>): number => [...bytes.values()].reduce((sum, b) => sum + b, 0);
  console.log(`\nthe built command (dist/selfheal.js and its chunks) by package, KiB of source: all of it / what \`selfheal daemon\` loads`);
  for (const [name, bytes] of [...all.entries()].sort((a, b) => b[1] - a[1])) console.log(`${kib(bytes)} ${kib(daemon.get(name) ?? 0)}  ${name}`);
  console.log(`${kib(total(all))} ${kib(total(daemon))}  in all`);
}

if (import.meta.filename === process.argv[1]) await benchModules();
