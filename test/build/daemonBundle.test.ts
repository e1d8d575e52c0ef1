// What `selfheal daemon` loads at start, read from the build's metafile
// (dist/selfheal.meta.json, written by build.mjs; `node build.mjs` first): the
// entry, the daemon command's chunk and every chunk they import statically.
// Code that file holds is source V8 keeps in memory for as long as the daemon
// runs, so what the daemon never calls stays out of it.
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";

import { describe, expect, it } from "vitest";

import { REPO } from "../helpers/bus.js";

interface Metafile {
  outputs: Record<string, { imports: Array<{ path: string; kind: string }>; inputs: Record<string, { bytesInOutput: number }> }>;
}

/** The chunk `selfheal daemon` imports first (build.mjs names chunks after their entry module). */
const DAEMON_CHUNK = /daemonCommand-[^/]*\.js$/;

// The source files (paths as esbuild names them) in the outputs the daemon loads at start.
function sourcesTheDaemonLoads(): string[] {
  const { outputs } = JSON.parse(readFileSync(join(REPO, "dist/selfheal.meta.json"), "utf8")) as Metafile;
  const loaded = new Set<string>();
  const visit = (path: string): void => {
    if (loaded.has(path) || outputs[path] === undefined) return;
    loaded.add(path);
    for (const { path: imported, kind } of outputs[path].imports) if (kind === "import-statement") visit(imported);
  };
  const roots = Object.keys(outputs).filter((path) => path.endsWith("dist/selfheal.js") || DAEMON_CHUNK.test(path));
  expect(roots.length).toBe(2);
  roots.forEach(visit);
  return [...loaded].flatMap((path) => Object.keys(outputs[path]!.inputs));
}

// The packages (node_modules/NAME) among the sources.
function packagesOf(sources: string[]): Set<string> {
  return new Set(sources.flatMap((path) => /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(path)?.[1] ?? []));
}

describe("the code selfheal daemon loads at start", () => {
  it("holds dbus-next and the daemon's own D-Bus code, but no XML library (the daemon parses and serves its interface itself)", () => {
    const packages = packagesOf(sourcesTheDaemonLoads());
    expect(packages).toContain("dbus-next");
    expect([...packages].filter((name) => ["xml2js", "xmlbuilder", "sax"].includes(name))).toEqual([]);
  });

  it("leaves re2js out: it is loaded from its own file with the first /regex/ match (daemon/proc/re2js.ts)", () => {
    expect(packagesOf(sourcesTheDaemonLoads())).not.toContain("re2js");
    const { outputs } = JSON.parse(readFileSync(join(REPO, "dist/selfheal.meta.json"), "utf8")) as Metafile;
    expect(Object.keys(outputs).filter((path) => packagesOf(Object.keys(outputs[path]!.inputs)).has("re2js"))).toEqual([]);
    expect(existsSync(join(REPO, "dist/selfheal-chunks/re2js.cjs"))).toBe(true);
  });

  it("validates config with zod's mini build, not its classic API", () => {
    const sources = sourcesTheDaemonLoads();
    expect(sources.some((path) => path.includes("node_modules/zod/v4/mini/"))).toBe(true);
    expect(sources.filter((path) => path.includes("node_modules/zod/v4/classic/"))).toEqual([]);
  });
});
