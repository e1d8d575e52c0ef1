import { describe, expect, it } from "vitest";
import { cooldownRows, remainingSeconds } from "../../../extension/src/model/cooldowns.js";
import { untranslated as t } from "../untranslated.js";

const SECOND = 1_000_000;
const fetched = 1_700_000_000 * SECOND;

describe("remainingSeconds", () => {
  it("counts down to until_usec", () => {
    const record = { name: "a", restartsInWindow: 5, cooldownRemaining: 120, untilUsec: fetched + 120 * SECOND };
    expect(remainingSeconds(record, fetched, fetched + 30 * SECOND)).toBe(90);
    expect(remainingSeconds(record, fetched, fetched + 500 * SECOND)).toBe(0);
  });

  it("counts down from cooldown_remaining when until_usec is missing", () => {
    const record = { name: "a", restartsInWindow: 5, cooldownRemaining: 60, untilUsec: 0 };
    expect(remainingSeconds(record, fetched, fetched + 15 * SECOND)).toBe(45);
  });
});

describe("cooldownRows", () => {
  it("lists who is held back first, longest wait first, then who is building up restarts", () => {
    const rows = cooldownRows(
      [
        { name: "counting", restartsInWindow: 3, cooldownRemaining: 0, untilUsec: 0 },
        { name: "short", restartsInWindow: 5, cooldownRemaining: 10, untilUsec: fetched + 10 * SECOND },
        { name: "long", restartsInWindow: 6, cooldownRemaining: 115, untilUsec: fetched + 115 * SECOND },
      ],
      fetched,
      fetched + 2 * SECOND,
      t,
    );
    expect(rows.map((row) => [row.name, row.held, row.remainingText, row.restartsText])).toEqual([
      ["long", true, "held back for 1 min 53 s", "6 restarts in the window"],
      ["short", true, "held back for 8 s", "5 restarts in the window"],
      ["counting", false, "not held back", "3 restarts in the window"],
    ]);
  });

  it("says a cooldown is ending once its time is up but the daemon has not said so yet", () => {
    const [row] = cooldownRows([{ name: "a", restartsInWindow: 1, cooldownRemaining: 1, untilUsec: fetched + SECOND }], fetched, fetched + 5 * SECOND, t);
    expect(row).toMatchObject({ held: false, remainingText: "cooldown ending", restartsText: "1 restart in the window" });
  });
});
