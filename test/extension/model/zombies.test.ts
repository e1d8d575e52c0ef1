import { describe, expect, it } from "vitest";
import { untranslated as t } from "../untranslated.js";
import { cleanupSummary, endParentSummary, zombieParentRows, zombieRows } from "../../../extension/src/model/zombies.js";

describe("zombieRows", () => {
  it("names each zombie with its parent, oldest first", () => {
    const rows = zombieRows(
      [
        { pid: 21, ppid: 20, name: "sleep", parentName: "sh", age: 5, parentSigchld: "default", parentProtected: "" },
        { pid: 31, ppid: 30, name: "", parentName: "", age: 125, parentSigchld: "", parentProtected: "" },
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

describe("zombieParentRows", () => {
  const zombie = (pid: number, ppid: number, parentName: string, parentSigchld: string, parentProtected = "") => ({
    pid,
    ppid,
    name: "defunct",
    parentName,
    age: 10,
    parentSigchld,
    parentProtected,
  });

  it("gives one row per parent, the one holding most first, with why it keeps them and whether it may be ended", () => {
    const rows = zombieParentRows(
      [zombie(11, 7, "keep-me", "handled", "keep-me is in [zombies] protected"), zombie(21, 17, "leaky", "default"), zombie(22, 17, "leaky", "default"), zombie(31, 1, "systemd", "handled", "it is PID 1 (init)")],
      t,
    );
    expect(rows).toEqual([
      { key: "17", ppid: 17, title: "leaky (PID 17)", detail: "2 zombies; it collects its children only when its own code asks, and it does not", canEnd: true, confirmText: "End leaky (PID 17)?" },
      { key: "1", ppid: 1, title: "systemd (PID 1)", detail: "1 zombie; selfheal will not end it: it is PID 1 (init)", canEnd: false, confirmText: "End systemd (PID 1)?" },
      { key: "7", ppid: 7, title: "keep-me (PID 7)", detail: "1 zombie; selfheal will not end it: keep-me is in [zombies] protected", canEnd: false, confirmText: "End keep-me (PID 7)?" },
    ]);
  });

  it("says why for each SIGCHLD disposition", () => {
    const detail = (sigchld: string) => zombieParentRows([zombie(2, 9, "p", sigchld)], t)[0]!.detail;
    expect(detail("blocked")).toBe("1 zombie; it blocks SIGCHLD, so it never hears the request to reap");
    expect(detail("ignored")).toBe("1 zombie; it ignores SIGCHLD, so the request to reap does nothing");
    expect(detail("handled")).toBe("1 zombie; its SIGCHLD handler does not collect them");
    expect(detail("")).toBe("1 zombie; it does not reap them");
  });

  it("says what ending a parent did", () => {
    expect(endParentSummary("leaky (PID 17)", 2, 0, t)).toBe("Ended leaky (PID 17): Reaped 2 zombies; none remain.");
  });
});
