// The extension's shape: GNOME imports only in src/gi/, view models free of anything GNOME.
import { readdir, readFile } from "node:fs/promises";
import { join, relative, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { legacyExpression, rewriteSeamForLegacy } from "../../extension/legacy-rewrite.mjs";

const SOURCE = resolve(import.meta.dirname, "../../extension/src");

async function sources(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true });
  return entries.filter((entry) => entry.isFile() && entry.name.endsWith(".ts")).map((entry) => join(entry.parentPath, entry.name));
}

const GNOME_IMPORT = /^\s*import\s+(?!type\b)[^;]*?from\s+["'](?:gi|resource):/m;

describe("the GI seam", () => {
  it("is the only place that imports gi:// or resource:// modules", async () => {
    const offenders: string[] = [];
    for (const file of await sources(SOURCE)) {
      const path = relative(SOURCE, file);
      if (path.startsWith("gi/")) continue;
      if (GNOME_IMPORT.test(await readFile(file, "utf8"))) offenders.push(path);
    }
    expect(offenders).toEqual([]);
  });

  it("keeps the view models to themselves: they import only each other", async () => {
    const offenders: string[] = [];
    for (const file of await sources(join(SOURCE, "model"))) {
      const text = await readFile(file, "utf8");
      for (const [, specifier] of text.matchAll(/from\s+["']([^"']+)["']/g)) {
        if (!specifier?.startsWith("./")) offenders.push(`${relative(SOURCE, file)}: ${specifier}`);
      }
    }
    expect(offenders).toEqual([]);
  });
});

describe("the legacy rewrite", () => {
  it("maps GNOME 45 module specifiers to imports.*", () => {
    expect(legacyExpression("gi://St")).toBe("imports.gi.St");
    expect(legacyExpression("gi://Gtk?version=4.0")).toBe("imports.gi.Gtk");
    expect(legacyExpression("resource:///org/gnome/shell/ui/main.js")).toBe("imports.ui.main");
    expect(legacyExpression("resource:///org/gnome/shell/ui/status/network.js")).toBe("imports.ui.status.network");
    expect(legacyExpression("resource:///org/gnome/shell/misc/util.js")).toBe("imports.misc.util");
    expect(legacyExpression("resource:///org/example/other.js")).toBeNull();
  });

  it("rewrites only import lines of GNOME modules", () => {
    const source = [
      'import St from "gi://St";',
      'import * as Main from "resource:///org/gnome/shell/ui/main.js";',
      "import { Button as PanelButton } from 'resource:///org/gnome/shell/ui/panelMenu.js';",
      'import { Extension } from "resource:///org/gnome/shell/extensions/extension.js";',
      'import type Gio from "gi://Gio";',
      'import { helper } from "./helper.js";',
      'const text = "import X from \\"gi://X\\"";',
    ].join("\n");
    expect(rewriteSeamForLegacy(source, "seam.ts").split("\n")).toEqual([
      "const St = imports.gi.St;",
      "const Main = imports.ui.main;",
      "const { Button: PanelButton } = imports.ui.panelMenu;",
      'import { Extension } from "./legacy/extension.js";',
      'import type Gio from "gi://Gio";',
      'import { helper } from "./helper.js";',
      'const text = "import X from \\"gi://X\\"";',
    ]);
  });

  it("refuses a module it has no GNOME 42–44 equivalent for", () => {
    expect(() => rewriteSeamForLegacy('import X from "resource:///org/example/x.js";', "seam.ts")).toThrow(/no GNOME 42–44 equivalent/);
  });
});
