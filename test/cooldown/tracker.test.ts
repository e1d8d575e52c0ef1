import { describe, expect, it } from "vitest";
import { CooldownTracker } from "../../daemon/cooldown/tracker.js";

const policy = { maxRestarts: 5, windowSec: 60, pauseSec: 120 };

describe("CooldownTracker", () => {
  it("allows 5 restarts within 60 s, then holds for 120 s, then opens a fresh window", () => {
    const tracker = new CooldownTracker();
    let now = 0;
    for (let i = 0; i < 5; i++) {
      expect(tracker.check("app", policy, now)).toEqual({ allowed: true });
      tracker.recordRestart("app", policy, now);
      now += 1000;
    }
    expect(tracker.check("app", policy, now)).toEqual({ allowed: false, untilMs: now + 120_000, restartsInWindow: 5 });
    // Begun, and not told yet (the engine tells it, then marks it told).
    expect(tracker.unannounced("app")).toBe(true);
    tracker.markAnnounced("app");
    expect(tracker.unannounced("app")).toBe(false);
    expect(tracker.check("app", policy, now + 1000)).toMatchObject({ allowed: false, untilMs: now + 120_000 });
    expect(tracker.unannounced("app")).toBe(false);
    expect(tracker.check("app", policy, now + 120_000)).toEqual({ allowed: true });
    expect(tracker.status("app", policy, now + 120_000)).toEqual({ restartsInWindow: 0, untilMs: 0 });
  });

  it("forgets restarts that fall out of the window", () => {
    const tracker = new CooldownTracker();
    for (let i = 0; i < 5; i++) tracker.recordRestart("app", policy, i * 20_000);
    // At 100 s only the restarts at 60 s and 80 s are inside the 60 s window.
    expect(tracker.status("app", policy, 100_000).restartsInWindow).toBe(2);
    expect(tracker.check("app", policy, 100_000)).toEqual({ allowed: true });
  });

  it("round-trips through JSON, as persisted", () => {
    const tracker = new CooldownTracker();
    for (let i = 0; i < 5; i++) tracker.recordRestart("app", policy, i);
    tracker.check("app", policy, 10);
    const copy = new CooldownTracker(JSON.parse(JSON.stringify(tracker.toJSON())));
    expect(copy.check("app", policy, 11)).toMatchObject({ allowed: false, untilMs: 120_010 });
  });
});
