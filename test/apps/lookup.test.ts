// Finding one app's desktop file: by the paths its id can name, not by listing every applications
// folder (a desktop has hundreds of desktop files, and each edit of a policy looks its apps up); the
// file found is the one the listing finds, precedence and subfolder ids included. The folder
// listings are counted through a spy on node:fs's readdirSync, over real folders.
import * as fs from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";

import { afterAll, describe, expect, it } from "vitest";

import { desktopFileOf, desktopFiles, resolveApp } from "../../daemon/apps/catalog.js";
import { fsCallsDuring } from "../helpers/fsCalls.js";

const root = fs.mkdtempSync(join(tmpdir(), "selfheal-lookup-"));
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

const first = join(root, "first", "applications");
const second = join(root, "second", "applications");

function write(path: string, text = "[Desktop Entry]\nType=Application\nName=App\nExec=/bin/true\n"): void {
  fs.mkdirSync(dirname(path), { recursive: true });
  fs.writeFileSync(path, text);
}

// Unrelated apps in subfolders, as a desktop has them.
for (let i = 0; i < 20; i++) write(join(first, `vendor${i}`, `app${i}.desktop`));
write(join(first, "org.example.Mine.desktop"));
// Two paths of one id in one folder: the listing (sorted, depth first) takes kde/foo.desktop.
write(join(first, "kde-foo.desktop"));
write(join(first, "kde", "foo.desktop"));
write(join(first, "a-b", "c-d.desktop"));
write(join(first, "a", "b-c-d.desktop"));
write(join(first, "a", "b", "c", "d.desktop"));
write(join(second, "a-b-c-d.desktop"));
write(join(second, "org.example.Mine.desktop"));
write(join(second, "only-second.desktop"));
// Deeper than the listing goes (4 subfolders), a folder named like a desktop file, a broken link, a linked folder.
write(join(first, "d1", "d2", "d3", "d4", "d5", "deep.desktop"));
write(join(first, "d1", "d2", "d3", "d4", "four.desktop"));
fs.mkdirSync(join(first, "dir.desktop"), { recursive: true });
fs.symlinkSync(join(root, "nowhere.desktop"), join(first, "dangling.desktop"));
write(join(root, "elsewhere", "linked.desktop"));
fs.symlinkSync(join(root, "elsewhere"), join(first, "via"));

const dirs = [first, second];

describe("one app's desktop file", () => {
  it("is found without listing any applications folder", async () => {
    const env = { HOME: join(root, "home"), XDG_DATA_DIRS: join(root, "first") };
    expect(await fsCallsDuring("readdirSync", () => expect(resolveApp("org.example.Mine", env)).toMatchObject({ file: join(first, "org.example.Mine.desktop") }))).toEqual([]);
    // The spy sees the catalog's calls: the listing (selfheal apps) lists folders.
    expect((await fsCallsDuring("readdirSync", () => desktopFiles([first]))).length).toBeGreaterThan(20);
  });

  it("is the file the listing gives, for every id it gives, and none for an id it does not", () => {
    const listed = desktopFiles(dirs);
    expect(listed.size).toBeGreaterThan(25);
    for (const [id, path] of listed) expect(desktopFileOf(id, dirs), id).toBe(path);
    expect(listed.get("kde-foo.desktop")).toBe(join(first, "kde", "foo.desktop"));
    expect(listed.get("a-b-c-d.desktop")).toBe(join(first, "a", "b", "c", "d.desktop"));
    expect(listed.get("via-linked.desktop")).toBe(join(first, "via", "linked.desktop"));
    for (const id of ["d1-d2-d3-d4-d5-deep.desktop", "dir.desktop", "nothing.desktop", "kde.desktop", "a-b.desktop"]) {
      expect(listed.has(id), id).toBe(false);
      expect(desktopFileOf(id, dirs), id).toBeUndefined();
    }
    expect(desktopFileOf("only-second.desktop", dirs)).toBe(join(second, "only-second.desktop"));
    expect(desktopFileOf("dangling.desktop", dirs)).toBe(join(first, "dangling.desktop"));
  });
});
