// Builds the GNOME Shell extension twice from one source, as two complete unpacked extensions:
//   dist/extension/gnome45/  ES modules, GNOME 45 and later
//   dist/extension/gnome42/  legacy imports.* scripts with init(), GNOME 42–44
// Only src/gi/ imports gi:// and resource:// modules (checked here); the legacy build rewrites
// those import lines into imports.* and leaves every other file as it is.
import { execFile } from "node:child_process";
import { copyFile, cp, mkdir, readFile, readdir, rm, writeFile } from "node:fs/promises";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { build } from "esbuild";
import { rewriteSeamForLegacy } from "./legacy-rewrite.mjs";
import { packVariant } from "./pack.mjs";

const run = promisify(execFile);
const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, "..");
const seamDir = join(here, "src", "gi");

export const UUID = "selfheal@selfheal.github.io";
export const SCHEMA_ID = "org.gnome.shell.extensions.selfheal";
const INTERFACE_XML = "io.github.SelfHeal1.Manager.xml";

// One entry per variant: where it goes, which shells it claims, how its JavaScript is shaped.
export const VARIANTS = {
  gnome45: { shellVersions: ["45", "46", "47", "48"], legacy: false, target: "firefox115" },
  gnome42: { shellVersions: ["42", "43", "44"], legacy: true, target: "firefox91" },
};

const metadataFor = (shellVersions) => ({
  uuid: UUID,
  name: "SelfHeal",
  description:
    "Shows selfheal, the self-healing process manager, in the top bar: the health of the watched programs, " +
    "their crashes, restarts and cooldowns, anomalies and zombies, with actions to restart, stop, start and clean up.",
  "shell-version": shellVersions,
  "settings-schema": SCHEMA_ID,
  "gettext-domain": "selfheal",
  version: 1,
});

// Keeps GNOME imports inside src/gi/, and in the legacy build rewrites them there.
function seamPlugin(legacy) {
  return {
    name: "selfheal-gi-seam",
    setup(b) {
      b.onResolve({ filter: /^(gi|resource):/ }, (args) => {
        if (!args.importer.startsWith(seamDir + "/")) {
          return {
            errors: [{ text: `${relative(root, args.importer)} imports "${args.path}": only src/gi/ may import GNOME modules` }],
          };
        }
        return { path: args.path, external: true };
      });
      if (!legacy) return;
      b.onLoad({ filter: /[\\/]src[\\/]gi[\\/][^\\/]+\.ts$/ }, async (args) => {
        const source = await readFile(args.path, "utf8");
        return { contents: rewriteSeamForLegacy(source, relative(root, args.path)), loader: "ts" };
      });
    },
  };
}

// The legacy shell and prefs dialog read top-level functions from plain scripts.
const LEGACY_FOOTERS = {
  extension: "function init(meta) {\n  return new selfhealExtension.default(meta);\n}\n",
  prefs:
    "let selfhealPreferences = null;\n" +
    "function init(metadata) {\n  selfhealPreferences = new selfhealPrefs.default(metadata);\n}\n" +
    "function fillPreferencesWindow(window) {\n  return selfhealPreferences.fillPreferencesWindow(window);\n}\n",
};

async function bundle(variant, entry, outDir) {
  const { legacy, target } = VARIANTS[variant];
  const globalName = entry === "extension" ? "selfhealExtension" : "selfhealPrefs";
  await build({
    entryPoints: [join(here, "src", `${entry}.ts`)],
    outfile: join(outDir, `${entry}.js`),
    bundle: true,
    format: legacy ? "iife" : "esm",
    ...(legacy ? { globalName, footer: { js: LEGACY_FOOTERS[entry] } } : {}),
    target,
    platform: "neutral",
    charset: "utf8",
    legalComments: "none",
    plugins: [seamPlugin(legacy)],
    logLevel: "warning",
  });
}

async function buildVariant(variant) {
  const outDir = join(root, "dist", "extension", variant);
  await rm(outDir, { recursive: true, force: true });
  await mkdir(join(outDir, "schemas"), { recursive: true });
  await mkdir(join(outDir, "dbus"), { recursive: true });
  await Promise.all([bundle(variant, "extension", outDir), bundle(variant, "prefs", outDir)]);
  await writeFile(join(outDir, "metadata.json"), JSON.stringify(metadataFor(VARIANTS[variant].shellVersions), null, 2) + "\n");
  await copyFile(join(root, "dbus", INTERFACE_XML), join(outDir, "dbus", INTERFACE_XML));
  await copyFile(join(here, "stylesheet.css"), join(outDir, "stylesheet.css"));
  await cp(join(here, "icons"), join(outDir, "icons"), { recursive: true });
  for (const name of await readdir(join(root, "schemas"))) {
    if (name.endsWith(".gschema.xml")) await copyFile(join(root, "schemas", name), join(outDir, "schemas", name));
  }
  await run("glib-compile-schemas", ["--strict", join(outDir, "schemas")]);
}

await Promise.all(Object.keys(VARIANTS).map(buildVariant));
for (const variant of Object.keys(VARIANTS)) await packVariant(variant);
