// Packs each built variant with `gnome-extensions pack` into dist/extension/, as
// selfheal@selfheal.github.io.<variant>.shell-extension.zip (run the build first).
import { execFile } from "node:child_process";
import { mkdtemp, readdir, rename, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

const run = promisify(execFile);
const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const distDir = join(root, "dist", "extension");
const UUID = "selfheal@selfheal.github.io";

for (const variant of ["gnome45", "gnome42"]) {
  const source = join(distDir, variant);
  const outDir = await mkdtemp(join(tmpdir(), "selfheal-pack-"));
  const schemas = (await readdir(join(source, "schemas"))).filter((name) => name.endsWith(".gschema.xml"));
  await run("gnome-extensions", [
    "pack", source, "--force", `--out-dir=${outDir}`,
    "--extra-source=icons", "--extra-source=dbus",
    ...schemas.map((name) => `--schema=schemas/${name}`),
  ]);
  const zip = join(distDir, `${UUID}.${variant}.shell-extension.zip`);
  await rename(join(outDir, `${UUID}.shell-extension.zip`), zip);
  await rm(outDir, { recursive: true, force: true });
  console.log(zip.slice(root.length + 1));
}
