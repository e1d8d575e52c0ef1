import { describe, expect, it } from "vitest";
import { untranslated as t } from "../untranslated.js";
import { cleanupSummary, zombieRows } from "../../../extension/src/model/zombies.js";

describe("zombieRows", () => {
  it("names each zombie with its parent, oldest first", () => {
    const rows = zombieRows(
      [
        { pid: 21, ppid: 20, name: "sleep", parentName: "sh", age: 5 },
        { pid: 31, ppid: 30, name: "", parentName: "", age: 125 },
      ],
      t,
    );
    expect(rows).toEqual([
      { key: "31", title: "PID 31", parentText: "parent: PID 30", ageText: "for 2 min 5 s" },
      { key: "21", title: "sleep (PID 21)", parentText: "parent: sh (PID 20)", ageText: "for 5 s" },
    ]);
  });
});

describe("cleanupSummary", () => {
  it("says what the cleanup did", () => {
    expect(cleanupSummary(2, 1, t)).toBe("Reaped 2 zombies; 1 remains.");
    expect(cleanupSummary(1, 0, t)).toBe("Reaped 1 zombie; none remain.");
    expect(cleanupSummary(0, 3, t)).toBe("No zombie was reaped; 3 remain.");
  });
});
