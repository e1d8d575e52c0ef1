// Reading desktop files: the [Desktop Entry] group, string escapes, localised keys, lists, and
// files that are not desktop files (named with their line).
import { readFileSync } from "node:fs";

import { describe, expect, it } from "vitest";

import { DesktopEntryError, localeVariants, parseDesktopEntry, unescapeString } from "../../daemon/apps/desktopEntry.js";

// The error parseDesktopEntry throws for `text`.
function entryError(text: string): DesktopEntryError {
  try {
    parseDesktopEntry(text, "x.desktop");
  } catch (error) {
    if (error instanceof DesktopEntryError) return error;
    throw error;
  }
  throw new Error("expected a DesktopEntryError");
}

describe("parseDesktopEntry", () => {
  it("reads a real desktop file of a Debian package (gnome-shell's, installed by the test setup)", () => {
    // gnome-shell's own desktop file, installed by scripts/test-deps.sh.
    const entry = parseDesktopEntry(readFileSync("/usr/share/applications/org.gnome.Shell.desktop", "utf8"), "org.gnome.Shell.desktop");
    expect(entry.string("Type")).toBe("Application");
    expect(entry.string("Exec")).toBe("/usr/bin/gnome-shell");
    expect(entry.boolean("NoDisplay")).toBe(true);
    expect(entry.list("Categories")).toEqual(["GNOME", "GTK", "Core"]);
    expect(entry.list("OnlyShowIn")).toEqual(["GNOME"]);
  });

  it("reads the translated Name for the user's locale, falling back lang_COUNTRY@MOD → lang_COUNTRY → lang@MOD → lang → untranslated", () => {
    const entry = parseDesktopEntry(
      ["# a comment", "[Desktop Entry]", "Name=Editor", "Name[de]=Bearbeiter", "Name[de_AT]=Editor (AT)", "Name[sr@latin]=Urednik", "Type=Application"].join("\n"),
      "x.desktop",
    );
    expect(entry.localeString("Name", "de_AT.UTF-8")).toBe("Editor (AT)");
    expect(entry.localeString("Name", "de_DE.UTF-8")).toBe("Bearbeiter");
    expect(entry.localeString("Name", "sr_RS.UTF-8@latin")).toBe("Urednik");
    expect(entry.localeString("Name", "fr_FR.UTF-8")).toBe("Editor");
    expect(entry.localeString("Name", "C.UTF-8")).toBe("Editor");
    expect(entry.localeString("Name", undefined)).toBe("Editor");
    expect(localeVariants("sr_RS.UTF-8@latin")).toEqual(["sr_RS@latin", "sr_RS", "sr@latin", "sr"]);
  });

  it("reads the string escapes \\s \\n \\t \\r \\\\ and keeps an unknown one as written", () => {
    expect(unescapeString("a\\sb\\nc\\td\\re\\\\f\\q")).toBe("a b\nc\td\re\\f\\q");
    const entry = parseDesktopEntry("[Desktop Entry]\nComment = two\\nlines  \nName=x", "x.desktop");
    // Spaces around "=" are ignored; those at the end of a value are kept.
    expect(entry.string("Comment")).toBe("two\nlines  ");
  });

  it("splits lists at unescaped semicolons, a trailing one optional", () => {
    const entry = parseDesktopEntry("[Desktop Entry]\nKeywords=a;b\\;c;d\\sd;\nMimeType=text/plain", "x.desktop");
    expect(entry.list("Keywords")).toEqual(["a", "b;c", "d d"]);
    expect(entry.list("MimeType")).toEqual(["text/plain"]);
    expect(entry.list("Absent")).toEqual([]);
  });

  it("reads only the [Desktop Entry] group: an action's Exec does not replace the app's", () => {
    const entry = parseDesktopEntry("[Desktop Entry]\nExec=app\nActions=new;\n\n[Desktop Action new]\nExec=app --new\nName=New", "x.desktop");
    expect(entry.string("Exec")).toBe("app");
    expect(entry.string("Name")).toBeUndefined();
  });

  it("refuses what is not a desktop file, naming the line", () => {
    expect(entryError("Name=x\n[Desktop Entry]").line).toBe(1);
    expect(entryError("[Desktop Entry]\nName=x\njust words").message).toBe('x.desktop:3: expected Key=Value, a [Group] or a # comment, got "just words"');
    expect(entryError("[Other]\nName=x").message).toContain("no [Desktop Entry] group");
    expect(entryError("[Desktop Entry]\nbad key=1").message).toContain('"bad key" is not a key');
    expect(entryError("[Desktop Entry\nName=x").line).toBe(1);
  });
});
