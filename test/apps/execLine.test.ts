// Exec lines as the Desktop Entry Specification reads them: quoting, and each field code for a
// start that opens no file.
import { describe, expect, it } from "vitest";

import { ExecLineError, expandExec } from "../../daemon/apps/execLine.js";
import { parseDesktopEntry } from "../../daemon/apps/desktopEntry.js";

const CONTEXT = { icon: "accessories-text-editor", name: "Text Editor", location: "/usr/share/applications/ed.desktop" };

// The argv of an Exec line written in a desktop file (the value's string escapes are read first, as the spec orders).
function fromFile(execValue: string): string[] {
  const exec = parseDesktopEntry(`[Desktop Entry]\nExec=${execValue}`, "x.desktop").string("Exec")!;
  return expandExec(exec, CONTEXT);
}

describe("expandExec", () => {
  it("drops %f %F %u %U when there is nothing to open, and the argument they made", () => {
    expect(fromFile("gnome-text-editor %U")).toEqual(["gnome-text-editor"]);
    expect(fromFile("vim %F")).toEqual(["vim"]);
    expect(fromFile("app --new-window %u --verbose")).toEqual(["app", "--new-window", "--verbose"]);
    expect(fromFile("app --file=%f")).toEqual(["app", "--file="]);
  });

  it("expands %i to --icon ICON (nothing without an icon), %c to the name, %k to the file, %% to %", () => {
    expect(fromFile("app %i --title=%c %k 100%%")).toEqual(["app", "--icon", "accessories-text-editor", "--title=Text Editor", "/usr/share/applications/ed.desktop", "100%"]);
    expect(expandExec("app %i", {})).toEqual(["app"]);
  });

  it("removes the deprecated %d %D %n %N %v %m", () => {
    expect(fromFile("app %d %D %n %N %v %m -x")).toEqual(["app", "-x"]);
  });

  it("reads double quotes with \\\" \\` \\$ \\\\ escaped inside, after the value's own escapes (four backslashes for one)", () => {
    expect(fromFile('"/opt/My App/bin/app" "a \\\\"quoted\\\\" word" "\\\\$HOME" "back\\\\\\\\slash"')).toEqual([
      "/opt/My App/bin/app",
      'a "quoted" word',
      "$HOME",
      "back\\slash",
    ]);
    // An empty quoted argument stays an argument.
    expect(fromFile('app ""')).toEqual(["app", ""]);
  });

  it("reads single quotes and backslashes outside quotes as GLib does (sh -c '…' is common in real files)", () => {
    expect(fromFile("sh -c 'exec app --x \"$1\"' sh")).toEqual(["sh", "-c", 'exec app --x "$1"', "sh"]);
    expect(fromFile("app a\\\\ b")).toEqual(["app", "a b"]);
  });

  it("refuses an unterminated quote, an unknown field code, a stray %, %i inside an argument, and no program", () => {
    for (const [exec, words] of [
      ['app "open', 'unterminated " quote'],
      ["app 'open", "unterminated ' quote"],
      ["app %x", "the field code %x"],
      ["app 50%", "a % at the end"],
      ["app --icon=%i", "%i must be an argument of its own"],
      ["app %iX", "%i must be an argument of its own"],
      ["%U", "names no program"],
      ["   ", "names no program"],
    ] as const) {
      expect(() => expandExec(exec, CONTEXT), exec).toThrow(ExecLineError);
      expect(() => expandExec(exec, CONTEXT), exec).toThrow(words);
    }
  });
});
