// Bundle a benchmark as build.mjs bundles the daemon (no names kept for closures, the
// interface XML embedded), into dist/ beside the built keeper and sentinel, so that it
// runs the code as the built daemon runs it:
//
//   node bench/bundle.mjs bench/scanPhases.ts && node dist/bench-scanPhases.mjs
import { readFileSync } from "node:fs";
import { basename, extname } from "node:path";
import { build } from "esbuild";

const entry = process.argv[2];
if (entry === undefined) throw new Error("usage: node bench/bundle.mjs bench/<file>.ts");
const outfile = `dist/bench-${basename(entry, extname(entry))}.mjs`;
await build({
  entryPoints: [entry],
  bundle: true,
  platform: "node",
  format: "esm",
  packages: "external",
  outfile,
  logLevel: "warning",
  define: { SELFHEAL_MANAGER_XML: JSON.stringify(readFileSync("dbus/io.github.SelfHeal1.Manager.xml", "utf8")) },
});
console.log(`${outfile}: node ${outfile}`);
