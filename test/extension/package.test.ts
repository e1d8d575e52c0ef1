// What `npm run build` ships for extensions.gnome.org: readable modules, metadata its review asks
// for, the licence, the translations, and (for GNOME 45+) no compiled schemas.
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import { unzipSync } from "fflate";
import { describe, expect, it } from "vitest";
import { ROOT, zipOf } from "./endToEnd.js";

const run = promisify(execFile);
const SOURCE = join(ROOT, "extension", "src");
const PO_DIR = join(ROOT, "po");

async function zipEntries(build: string): Promise<Record<string, Uint8Array>> {
  const zip = zipOf(build);
  if (!existsSync(zip)) throw new Error(`no ${zip}: run npm run build`);
  return unzipSync(await readFile(zip));
}

const text = (bytes: Uint8Array | undefined): string => new TextDecoder().decode(bytes);

describe("the extension's zips", () => {
  it("carry the full GPL-3.0-or-later text, the German translation and metadata without a version", async () => {
    const license = await readFile(join(ROOT, "LICENSE"), "utf8");
    expect(license).toContain("GNU GENERAL PUBLIC LICENSE");
    expect(license).toContain("Version 3, 29 June 2007");
    expect(license.length).toBeGreaterThan(30_000);
    for (const [build, versions] of [
      ["gnome45", ["45", "46", "47", "48"]],
      ["gnome42", ["42", "43", "44"]],
    ] as const) {
      const files = await zipEntries(build);
      expect(text(files.LICENSE), build).toBe(license);
      expect(Object.keys(files), build).toContain("locale/de/LC_MESSAGES/selfheal.mo");
      const metadata = JSON.parse(text(files["metadata.json"])) as Record<string, unknown>;
      expect(metadata, build).not.toHaveProperty("version");
      expect(metadata, build).toMatchObject({
        uuid: "selfheal@selfheal.github.io",
        "shell-version": versions,
        "settings-schema": "org.gnome.shell.extensions.selfheal",
        "gettext-domain": "selfheal",
        url: expect.stringMatching(/^https:\/\//),
        description: expect.stringMatching(/Requires the selfheal daemon[^]*install\.sh/),
      });
    }
  });

  it("leave gschemas.compiled out of the GNOME 45+ zip (the shell compiles schemas at install) and in the GNOME 42–44 one", async () => {
    const modern = Object.keys(await zipEntries("gnome45"));
    expect(modern).toContain("schemas/org.gnome.shell.extensions.selfheal.gschema.xml");
    expect(modern).not.toContain("schemas/gschemas.compiled");
    expect(Object.keys(await zipEntries("gnome42"))).toContain("schemas/gschemas.compiled");
  });

  it("ship the GNOME 45+ build as one commented JavaScript module per TypeScript module of extension/src", async () => {
    const sources = (await readdir(SOURCE, { recursive: true }))
      .filter((name) => name.endsWith(".ts") && !name.endsWith(".d.ts") && !name.startsWith("gi/legacy"))
      .map((name) => name.replace(/\.ts$/, ".js"))
      .sort();
    const files = await zipEntries("gnome45");
    const shipped = Object.keys(files)
      .filter((name) => name.endsWith(".js"))
      .sort();
    expect(shipped).toEqual(sources);
    for (const name of shipped) {
      const source = await readFile(join(SOURCE, name.replace(/\.js$/, ".ts")), "utf8");
      const firstComment = source.split("\n").find((line) => line.startsWith("//"));
      if (firstComment) expect(text(files[name]), `${name} keeps its comments`).toContain(firstComment);
    }
  });
});

describe("the translations", () => {
  it("have po/de.po translate every string of po/selfheal.pot, none fuzzy", async () => {
    await run("msgcmp", [join(PO_DIR, "de.po"), join(PO_DIR, "selfheal.pot")]);
    const { stderr } = await run("msgfmt", ["--check", "--statistics", "-o", "/dev/null", join(PO_DIR, "de.po")]);
    expect(stderr.trim()).toMatch(/^\d+ translated messages\.$/);
  });

  it("keep every {placeholder} of a string in its German translation", async () => {
    const { stdout } = await run("msgcat", ["--no-wrap", "--no-location", join(PO_DIR, "de.po")]);
    const placeholders = (value: string): string[] => [...value.matchAll(/\{\w+\}/g)].map((match) => match[0]).sort();
    const unquote = (line: string): string => JSON.parse(line.replace(/^msg\w+(\[\d\])? /, "")) as string;
    const problems: string[] = [];
    for (const entry of stdout.split("\n\n").slice(1)) {
      const lines = entry.split("\n");
      const ids = lines.filter((line) => line.startsWith("msgid")).map(unquote);
      const translations = lines.filter((line) => line.startsWith("msgstr")).map(unquote);
      for (const translation of translations) {
        if (placeholders(translation).join() !== placeholders(ids[ids.length - 1] ?? "").join()) problems.push(`${ids[0]} → ${translation}`);
      }
    }
    expect(problems).toEqual([]);
  });
});
