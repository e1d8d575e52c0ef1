// Where the daemon's memory goes, by module: Node.js alone, then each
// dependency the bundle loads at start, imported one after another in a fresh
// Node.js with the daemon's #! flags (resident memory and V8 heap after a full
// collection), then the built daemon itself; and the bundle's bytes by package
// (esbuild's metafile), which is source V8 keeps in memory.
//
//   node --import tsx bench/modules.ts
import { execFileSync } from "node:child_process";
import { build } from "esbuild";
import { resolve } from "node:path";
import { daemonNodeFlags, daemonShebangEnv } from "../test/helpers/command.js";

const REPO = resolve(import.meta.dirname, "..");
const MIB = 1024 * 1024;
/** Packages the daemon bundles, in the order its start loads them; each stage imports its own and all before it. */
const PACKAGES = ["dbus-next", "zod", "zod/mini", "smol-toml", "toml-eslint-parser", "re2js", "nodemailer"];

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

// The built daemon's bundle bytes by package (its own code as "selfheal").
async function bundleBytesByPackage(): Promise<Array<[string, number]>> {
  const result = await build({ entryPoints: [resolve(REPO, "daemon/main.ts")], bundle: true, platform: "node", target: "node20", format: "esm", write: false, metafile: true, logLevel: "silent" });
  const output = Object.values(result.metafile.outputs)[0]!;
  const bytes = new Map<string, number>();
  for (const [path, { bytesInOutput }] of Object.entries(output.inputs)) {
    const match = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(path);
    const name = match ? match[1]! : "selfheal";
    bytes.set(name, (bytes.get(name) ?? 0) + bytesInOutput);
  }
  return [...bytes.entries()].sort((a, b) => b[1] - a[1]);
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
  console.log(`\nthe daemon's bundle (dist/selfheal.js) by package, bytes of source:`);
  for (const [name, bytes] of await bundleBytesByPackage()) console.log(`${(bytes / 1024).toFixed(0).padStart(8)} KiB  ${name}`);
}

if (import.meta.filename === process.argv[1]) await benchModules();
