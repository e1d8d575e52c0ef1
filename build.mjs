// Builds the daemon into one file for Node.js 18.19+ (the oldest the distributions ship), and (when present) the GNOME Shell extension.
import { build } from "esbuild";
import { execFileSync } from "node:child_process";
import { chmod, mkdir, writeFile } from "node:fs/promises";
import { copyFileSync, existsSync, readFileSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join, resolve } from "node:path";

await mkdir("dist", { recursive: true });

/** Resolves dbus-next's require("xml2js") to daemon/bus/xml2jsStandIn.ts (node_modules stays as installed). */
const xml2jsStandIn = {
  name: "xml2js-stand-in",
  setup(build) {
    build.onResolve({ filter: /^xml2js$/ }, (args) =>
      /[\\/]node_modules[\\/]dbus-next[\\/]/.test(args.importer) ? { path: resolve("daemon/bus/xml2jsStandIn.ts") } : undefined,
    );
  },
};
// Code loaded only when needed (each command's own, nodemailer with the first
// mail) goes to chunks beside the command, so a process holds only what it runs.
const CHUNKS = "dist/selfheal-chunks";
const RE2JS_FILE = "re2js.cjs";
rmSync(CHUNKS, { recursive: true, force: true });
const daemonBuild = await build({
  entryPoints: { selfheal: "daemon/main.ts" },
  outdir: "dist",
  splitting: true,
  chunkNames: "selfheal-chunks/[name]-[hash]",
  bundle: true,
  platform: "node",
  target: "node18.19",
  format: "esm",
  sourcemap: true,
  // dbus-next's require("xml2js") gets a stand-in: the daemon never uses the XML libraries (daemon/bus/xml2jsStandIn.ts).
  plugins: [xml2jsStandIn],
  // The D-Bus interface XML goes into the bundle: the daemon looks up no file for it at run time.
  // re2js is loaded when the first /regex/ match is compiled, from its CommonJS build copied beside the chunks (below).
  define: {
    SELFHEAL_MANAGER_XML: JSON.stringify(readFileSync("dbus/io.github.SelfHeal1.Manager.xml", "utf8")),
    SELFHEAL_RE2JS: JSON.stringify(`./${RE2JS_FILE}`),
  },
  banner: {
    // --max-semi-space-size=1: a young generation of 1 MB (V8's default is 16), which keeps the
    // daemon's resident memory about 4 MB lower (CPU 0.40-0.46 s a minute either way). V8's lite mode and
    // --no-opt were measured too: 54-57 MB instead of 66, but D-Bus replies 2.5-3x slower (README).
    // --expose-gc: the D-Bus service collects once after a burst of calls, which gives back the memory
    // the burst made V8 grow (bus/settle.ts; RSS figures in the README). MALLOC_MMAP_THRESHOLD_: buffers
    // of 8 KiB and more (replies, socket reads) are mapped on their own and returned when freed,
    // rather than left as holes in the malloc heap; the daemon does not pass it on to its programs.
    // Everything that starts the daemon takes its environment and Node.js flags from this line.
    // Bundled CommonJS dependencies (dbus-next) still call require().
    js: "#!/usr/bin/env -S MALLOC_MMAP_THRESHOLD_=8192 node --max-semi-space-size=1 --expose-gc\nimport { createRequire as __selfhealCreateRequire } from 'node:module';\nconst require = __selfhealCreateRequire(import.meta.url);",
  },
  // Which source went into which file: the tests check what `selfheal daemon` loads (test/build), the
  // benchmarks weigh it. Not installed (install.sh copies selfheal.js and its chunks).
  metafile: true,
  logLevel: "warning",
});
await writeFile("dist/selfheal.meta.json", JSON.stringify(daemonBuild.metafile));
// re2js's CommonJS build (one file, no imports of its own) goes beside the chunk that loads it (daemon/proc/re2js.ts),
// which must then be a chunk: install.sh copies selfheal-chunks/ whole.
const re2jsLoader = Object.entries(daemonBuild.metafile.outputs).find(([, output]) => "daemon/proc/re2js.ts" in output.inputs)?.[0];
if (re2jsLoader === undefined || dirname(re2jsLoader) !== CHUNKS) throw new Error(`build: daemon/proc/re2js.ts is in ${re2jsLoader}, not in a chunk of ${CHUNKS}`);
copyFileSync(createRequire(import.meta.url).resolve("re2js"), join(CHUNKS, RE2JS_FILE));
await chmod("dist/selfheal.js", 0o755);

// Two small C programs beside the daemon, built with the system's C compiler
// ($CC, or cc); without one the daemon still works, and says at every start
// what it does without them (install.sh installs gcc for them):
// - the keeper (daemon/keeper/keeper.c), the parent of each program the daemon
//   starts: without it, crash protection ends with the daemon;
// - the sentinel (daemon/sentinel/sentinel.c), which takes the ten looks a
//   second between scans: without it, the daemon takes them itself (more CPU at rest).
const cc = process.env.CC || "cc";
const HELPERS = [
  { output: "dist/selfheal-keeper", source: "daemon/keeper/keeper.c", without: "programs will be the daemon's own children, and lose their crash protection when the daemon restarts" },
  { output: "dist/selfheal-sentinel", source: "daemon/sentinel/sentinel.c", without: "the daemon will take its looks between scans itself, at more CPU at rest" },
];
for (const { output, source, without } of HELPERS) {
  try {
    execFileSync(cc, ["-O2", "-Wall", "-Wextra", "-o", output, source], { stdio: ["ignore", "inherit", "inherit"] });
  } catch (error) {
    rmSync(output, { force: true });
    console.warn(
      `build: WARNING: ${output} was not built (${cc}: ${error.code === "ENOENT" ? "no C compiler" : error.message}).\n` +
        `build: ${without}.\n` +
        "build: install a C compiler (Debian/Ubuntu: apt install gcc libc6-dev) and build again.",
    );
  }
}

if (existsSync("extension/build.mjs")) {
  await import("./extension/build.mjs");
}
