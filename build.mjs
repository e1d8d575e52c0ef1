// Builds the daemon into one file for Node.js 20+, and (when present) the GNOME Shell extension.
import { build } from "esbuild";
import { chmod, mkdir } from "node:fs/promises";
import { existsSync } from "node:fs";

await mkdir("dist", { recursive: true });
await build({
  entryPoints: ["daemon/main.ts"],
  outfile: "dist/selfheal.js",
  bundle: true,
  platform: "node",
  target: "node20",
  format: "esm",
  sourcemap: true,
  banner: {
    // --lite-mode: V8 without its optimising compiler (and so without WebAssembly, which nothing here uses:
    // --no-expose-wasm says so, or V8 warns at every start). The daemon's work is light and steady, and
    // it measured both leaner and cheaper so (RSS about 10 MB less, CPU no higher; see README).
    // Everything that starts the daemon takes its Node.js flags from this line.
    // Bundled CommonJS dependencies (dbus-next) still call require().
    js: "#!/usr/bin/env -S node --lite-mode --no-expose-wasm\nimport { createRequire as __selfhealCreateRequire } from 'node:module';\nconst require = __selfhealCreateRequire(import.meta.url);",
  },
  logLevel: "warning",
});
await chmod("dist/selfheal.js", 0o755);

if (existsSync("extension/build.mjs")) {
  await import("./extension/build.mjs");
}
