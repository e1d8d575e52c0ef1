// Packs each built variant into dist/extension/selfheal@selfheal.github.io.<variant>.shell-extension.zip,
// the files at the zip's top level as `gnome-extensions install` and extensions.gnome.org expect
// them (the build calls it; run alone, it packs what the last build left).
//
// GNOME 44 and later compile an extension's schemas when they install it, and extensions.gnome.org
// refuses a GNOME 45+ zip that carries gschemas.compiled: that zip has the schema's XML only. The
// GNOME 42–44 zip keeps the compiled schemas, which GNOME 42 and 43 need.
import { readdir, readFile, writeFile } from "node:fs/promises";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { zipSync } from "fflate";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const distDir = join(root, "dist", "extension");
const UUID = "selfheal@selfheal.github.io";
/** Variants whose zip goes without gschemas.compiled (the shell compiles the schemas at install). */
const SCHEMAS_COMPILED_AT_INSTALL = new Set(["gnome45"]);

export async function packVariant(variant) {
  const source = join(distDir, variant);
  const leaveOut = SCHEMAS_COMPILED_AT_INSTALL.has(variant) ? new Set(["schemas/gschemas.compiled"]) : new Set();
  const files = {};
  for (const entry of await readdir(source, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    // Dirent.parentPath is Node.js 18.20+/20.12+; 18.19 (Ubuntu 24.04's, which install.sh builds with) has only .path.
    const name = relative(source, join(entry.parentPath ?? entry.path, entry.name));
    if (!leaveOut.has(name)) files[name] = await readFile(join(source, name));
  }
  const zip = join(distDir, `${UUID}.${variant}.shell-extension.zip`);
  await writeFile(zip, zipSync(files, { level: 9 }));
  return zip;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  for (const variant of ["gnome45", "gnome42"]) console.log(relative(root, await packVariant(variant)));
}
