// Builds the GNOME Shell extension twice from one source, as two complete unpacked extensions,
// and packs each into a zip (pack.mjs):
//   dist/extension/gnome45/  ES modules, GNOME 45 and later: one readable JavaScript file per
//                            TypeScript module of src/, comments kept (tsc), for the reviewers of
//                            extensions.gnome.org
//   dist/extension/gnome42/  legacy imports.* scripts with init(), GNOME 42–44: two bundles, since
//                            those shells load extension.js and prefs.js as plain scripts that
//                            cannot import the source's ES modules
// Only src/gi/ imports gi:// and resource:// modules (checked here); the legacy build rewrites
// those import lines into imports.* and leaves every other file as it is. Translations: the
// strings of src/ go to po/selfheal.pot (xgettext), and each po/LANG.po is compiled into both
// builds (msgfmt).
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
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
const GETTEXT_DOMAIN = "selfheal";
const PROJECT_URL = "https://github.com/selfheal/selfheal";
const PO_DIR = join(root, "po");
const POT_FILE = join(PO_DIR, `${GETTEXT_DOMAIN}.pot`);

// One entry per variant: where it goes, which shells it claims, how its JavaScript is shaped.
export const VARIANTS = {
  gnome45: { shellVersions: ["45", "46", "47", "48"], legacy: false },
  gnome42: { shellVersions: ["42", "43", "44"], legacy: true, target: "firefox91" },
};

// No `version`: extensions.gnome.org sets it on upload.
const metadataFor = (shellVersions) => ({
  uuid: UUID,
  name: "SelfHeal",
  description:
    "Shows selfheal, the self-healing process manager, in the top bar: the health of the watched programs, " +
    "their crashes, restarts and cooldowns, anomalies and zombies, with actions to restart, stop, start and clean up, " +
    "and a preferences window to edit what it watches.\n\n" +
    `Requires the selfheal daemon, which this extension only shows and drives: install it with ./install.sh from ${PROJECT_URL} ` +
    "(it needs Node.js 20 or later). Without the daemon the menu says so and offers to start it.",
  url: PROJECT_URL,
  "shell-version": shellVersions,
  "settings-schema": SCHEMA_ID,
  "gettext-domain": GETTEXT_DOMAIN,
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

// GNOME 45+: tsc emits each module of src/ (but the legacy stand-ins) as it is, comments kept.
async function emitModules(outDir) {
  await run(process.execPath, [join(root, "node_modules", "typescript", "bin", "tsc"), "-p", join(here, "tsconfig.gnome45.json"), "--outDir", outDir]);
}

// The GNOME 42–44 scripts: one bundle per entry point, the seam rewritten into imports.*.
async function bundle(variant, entry, outDir) {
  const { legacy, target } = VARIANTS[variant];
  if (!legacy) throw new Error(`${variant} is built module by module, not bundled`);
  const globalName = entry === "extension" ? "selfhealExtension" : "selfhealPrefs";
  await build({
    entryPoints: [join(here, "src", `${entry}.ts`)],
    outfile: join(outDir, `${entry}.js`),
    bundle: true,
    format: "iife",
    globalName,
    footer: { js: LEGACY_FOOTERS[entry] },
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
  if (VARIANTS[variant].legacy) await Promise.all([bundle(variant, "extension", outDir), bundle(variant, "prefs", outDir)]);
  else await emitModules(outDir);
  await writeFile(join(outDir, "metadata.json"), JSON.stringify(metadataFor(VARIANTS[variant].shellVersions), null, 2) + "\n");
  await copyFile(join(root, "dbus", INTERFACE_XML), join(outDir, "dbus", INTERFACE_XML));
  await copyFile(join(here, "stylesheet.css"), join(outDir, "stylesheet.css"));
  await cp(join(here, "icons"), join(outDir, "icons"), { recursive: true });
  for (const name of await readdir(join(root, "schemas"))) {
    if (name.endsWith(".gschema.xml")) await copyFile(join(root, "schemas", name), join(outDir, "schemas", name));
  }
  await run("glib-compile-schemas", ["--strict", join(outDir, "schemas")]);
  await copyFile(join(root, "LICENSE"), join(outDir, "LICENSE"));
  await compileTranslations(join(outDir, "locale"));
}

// po/selfheal.pot from the strings of src/ (gettext and ngettext calls). Rewritten only when a
// string or a place changed, so that a build does not touch it for its date alone.
async function extractStrings() {
  const sources = (await readdir(join(here, "src"), { recursive: true }))
    .filter((name) => name.endsWith(".ts") && !name.endsWith(".d.ts") && !name.startsWith(join("gi", "legacy")))
    .sort()
    .map((name) => relative(root, join(here, "src", name)));
  const fresh = join(PO_DIR, `.${GETTEXT_DOMAIN}.pot.new`);
  await run(
    "xgettext",
    ["--language=JavaScript", "--from-code=UTF-8", "--keyword=gettext", "--keyword=ngettext:1,2", "--add-comments=Translators:",
      `--package-name=${GETTEXT_DOMAIN}`, "--msgid-bugs-address=" + PROJECT_URL + "/issues", "--sort-by-file", "-o", fresh, ...sources],
    { cwd: root },
  );
  const withoutDate = (text) => text.replace(/^"POT-Creation-Date: .*\n/m, "");
  const previous = existsSync(POT_FILE) ? await readFile(POT_FILE, "utf8") : "";
  const next = await readFile(fresh, "utf8");
  if (withoutDate(previous) !== withoutDate(next)) await writeFile(POT_FILE, next);
  await rm(fresh);
}

// Each po/LANG.po as locale/LANG/LC_MESSAGES/selfheal.mo under `localeDir`.
async function compileTranslations(localeDir) {
  for (const name of (await readdir(PO_DIR)).filter((file) => file.endsWith(".po"))) {
    const dir = join(localeDir, name.slice(0, -".po".length), "LC_MESSAGES");
    await mkdir(dir, { recursive: true });
    await run("msgfmt", ["--check", "-o", join(dir, `${GETTEXT_DOMAIN}.mo`), join(PO_DIR, name)]);
  }
}

await extractStrings();
await Promise.all(Object.keys(VARIANTS).map(buildVariant));
for (const variant of Object.keys(VARIANTS)) await packVariant(variant);
