// The rate limit and its digest, with a clock that moves only when told.
import { describe, expect, it } from "vitest";

import { AlertThrottle, DIGEST_MAX_LISTED, type Digest } from "../../daemon/notify/throttle.js";
import { FakeClock } from "../helpers/fakes.js";

const MINUTE = 60_000;

function setup(windowMs = 15 * MINUTE) {
  const clock = new FakeClock();
  const digests: Digest<string>[] = [];
  const throttle = new AlertThrottle<string>(clock, windowMs, (digest) => digests.push(digest));
  return { clock, digests, throttle };
}

describe("AlertThrottle", () => {
  it("lets the first alert of a key through and holds the rest of its window", () => {
    const { clock, throttle, digests } = setup();
    expect(throttle.offer("crash gedit", "a")).toBe(true);
    clock.advance(MINUTE);
    expect(throttle.offer("crash gedit", "b")).toBe(false);
    expect(throttle.offer("crash gedit", "c")).toBe(false);
    expect(digests).toEqual([]);
  });

  it("counts each (process, kind) key on its own", () => {
    const { throttle } = setup();
    expect(throttle.offer("crash gedit", "a")).toBe(true);
    expect(throttle.offer("crash vim", "b")).toBe(true);
    expect(throttle.offer("memory gedit", "c")).toBe(true);
    expect(throttle.offer("crash gedit", "d")).toBe(false);
  });

  it("hands out what was held as one digest when the window ends, and not before", () => {
    const { clock, throttle, digests } = setup();
    const start = clock.now();
    throttle.offer("k", "first");
    clock.advance(MINUTE);
    throttle.offer("k", "second");
    throttle.offer("k", "third");
    clock.advance(14 * MINUTE - 1);
    expect(digests).toEqual([]);
    clock.advance(1);
    expect(digests).toEqual([{ key: "k", count: 2, items: ["second", "third"], windowStartMs: start, windowEndMs: start + 15 * MINUTE }]);
  });

  it("opens a new window with the digest, so a steady stream costs one message per window", () => {
    const { clock, throttle, digests } = setup(10 * MINUTE);
    let passed = 0;
    // One alert a minute for an hour.
    for (let minute = 0; minute < 60; minute++) {
      if (throttle.offer("k", `m${minute}`)) passed++;
      clock.advance(MINUTE);
    }
    expect(passed).toBe(1);
    expect(digests.map((d) => d.count)).toEqual([9, 10, 10, 10, 10, 10]);
    expect(digests.reduce((sum, d) => sum + d.count, 0) + passed).toBe(60);
  });

  it("sends nothing at a window's end when nothing was held, and then lets the next alert through", () => {
    const { clock, throttle, digests } = setup();
    throttle.offer("k", "a");
    clock.advance(15 * MINUTE);
    expect(digests).toEqual([]);
    expect(throttle.openWindows).toBe(0);
    expect(throttle.offer("k", "b")).toBe(true);
  });

  it("after a digest, the next window with nothing held closes quietly", () => {
    const { clock, throttle, digests } = setup();
    throttle.offer("k", "a");
    throttle.offer("k", "b");
    clock.advance(15 * MINUTE);
    expect(digests).toHaveLength(1);
    expect(throttle.offer("k", "c")).toBe(false);
    clock.advance(15 * MINUTE);
    expect(digests.map((d) => d.items)).toEqual([["b"], ["c"]]);
    clock.advance(15 * MINUTE);
    expect(digests).toHaveLength(2);
    expect(throttle.offer("k", "d")).toBe(true);
  });

  it("lists at most DIGEST_MAX_LISTED items but counts them all", () => {
    const { clock, throttle, digests } = setup();
    throttle.offer("k", "first");
    for (let i = 0; i < DIGEST_MAX_LISTED + 7; i++) throttle.offer("k", `x${i}`);
    clock.advance(15 * MINUTE);
    expect(digests[0]!.count).toBe(DIGEST_MAX_LISTED + 7);
    expect(digests[0]!.items).toHaveLength(DIGEST_MAX_LISTED);
    expect(digests[0]!.items[0]).toBe("x0");
  });

  it("lets everything through with a window of 0", () => {
    const { throttle } = setup(0);
    for (let i = 0; i < 5; i++) expect(throttle.offer("k", String(i))).toBe(true);
  });

  it("applies a new window length to windows opened afterwards", () => {
    const { clock, throttle, digests } = setup(15 * MINUTE);
    throttle.offer("k", "a");
    throttle.offer("k", "b");
    throttle.setWindow(MINUTE);
    clock.advance(15 * MINUTE);
    expect(digests).toHaveLength(1);
    expect(throttle.offer("other", "c")).toBe(true);
    expect(throttle.offer("other", "d")).toBe(false);
    clock.advance(MINUTE);
    expect(digests).toHaveLength(2);
  });

  it("drops open windows without digests when stopped", () => {
    const { clock, throttle, digests } = setup();
    throttle.offer("k", "a");
    throttle.offer("k", "b");
    throttle.stop();
    clock.advance(60 * MINUTE);
    expect(digests).toEqual([]);
  });
});
