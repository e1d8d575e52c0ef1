// The sentinels' shared timer, with a fake clock: every sentinel looks once
// per period, in order, on one repeating timer; a fault in one is reported
// and the others go on; stop() ends the looks.
import { describe, expect, it } from "vitest";
import type { Clock, Timer } from "../../../daemon/engine/clock.js";
import { SENTINEL_PERIOD_MS, SentinelWatch } from "../../../daemon/engine/sentinels/watch.js";
import { FakeClock } from "../../helpers/fakes.js";

// A fake clock that counts the timers asked of it.
function countingClock() {
  const clock = new FakeClock();
  const asked = { timeouts: 0, intervals: 0 };
  const counting: Clock & { advance(ms: number): void } = {
    now: () => clock.now(),
    setTimeout: (fn: () => void, ms: number): Timer => (asked.timeouts++, clock.setTimeout(fn, ms)),
    setInterval: (fn: () => void, ms: number): Timer => (asked.intervals++, clock.setInterval(fn, ms)),
    advance: (ms: number) => clock.advance(ms),
  };
  return { clock: counting, asked };
}

describe("the sentinels' watch", () => {
  it("has every sentinel look once a period, in the order added, with the clock's time", () => {
    const { clock } = countingClock();
    const looks: string[] = [];
    const watch = new SentinelWatch(clock, () => undefined);
    watch.add({ name: "a", look: (now) => looks.push(`a@${now}`) });
    watch.add({ name: "b", look: (now) => looks.push(`b@${now}`) });
    watch.start();
    const start = clock.now();
    clock.advance(SENTINEL_PERIOD_MS - 1);
    expect(looks).toEqual([]);
    clock.advance(1);
    clock.advance(2 * SENTINEL_PERIOD_MS);
    const at = (n: number) => start + n * SENTINEL_PERIOD_MS;
    expect(looks).toEqual([`a@${at(1)}`, `b@${at(1)}`, `a@${at(2)}`, `b@${at(2)}`, `a@${at(3)}`, `b@${at(3)}`]);
  });

  it("looks on one repeating timer, not a new timer per look", () => {
    const { clock, asked } = countingClock();
    let looks = 0;
    const watch = new SentinelWatch(clock, () => undefined);
    watch.add({ name: "a", look: () => looks++ });
    watch.start();
    watch.start();
    clock.advance(50 * SENTINEL_PERIOD_MS);
    expect(looks).toBe(50);
    expect(asked).toEqual({ timeouts: 0, intervals: 1 });
  });

  it("reports a fault in one sentinel and goes on with the others and the next looks", () => {
    const { clock } = countingClock();
    const reports: string[] = [];
    let looks = 0;
    const watch = new SentinelWatch(clock, (where, error) => reports.push(`${where}: ${(error as Error).message}`));
    watch.add({ name: "faulty", look: () => { throw new Error("boom"); } });
    watch.add({ name: "fine", look: () => looks++ });
    watch.start();
    clock.advance(2 * SENTINEL_PERIOD_MS);
    expect(looks).toBe(2);
    expect(reports).toEqual(["looking out for faulty: boom", "looking out for faulty: boom"]);
  });

  it("looks no more once stopped, also when stopped from within a look; and starts again", () => {
    const { clock } = countingClock();
    let looks = 0;
    const watch = new SentinelWatch(clock, () => undefined);
    watch.add({ name: "stopper", look: () => (++looks === 2 ? watch.stop() : undefined) });
    watch.start();
    clock.advance(10 * SENTINEL_PERIOD_MS);
    expect(looks).toBe(2);
    watch.start();
    clock.advance(SENTINEL_PERIOD_MS);
    expect(looks).toBe(3);
  });
});
