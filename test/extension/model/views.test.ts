import { describe, expect, it } from "vitest";
import { untranslated as t } from "../untranslated.js";
import { EMPTY_STATUS } from "../../../extension/src/model/records.js";
import { emptyText, isViewId, VIEW_IDS, viewTabs } from "../../../extension/src/model/views.js";

describe("viewTabs", () => {
  it("labels the four views with the daemon's counts, leaving zeros out", () => {
    const tabs = viewTabs({ ...EMPTY_STATUS, watchedCount: 50, zombieCount: 0, anomalyCount: 3, cooldownCount: 1 }, t);
    expect(tabs.map((tab) => tab.label)).toEqual(["Processes (50)", "Anomalies (3)", "Zombies", "Cooldown (1)"]);
    expect(tabs.map((tab) => tab.id)).toEqual([...VIEW_IDS]);
  });
});

describe("emptyText", () => {
  it("has a helpful sentence for every view", () => {
    for (const view of VIEW_IDS) expect(emptyText(view, t).length).toBeGreaterThan(20);
  });
});

describe("isViewId", () => {
  it("accepts the four views only", () => {
    expect(isViewId("zombies")).toBe(true);
    expect(isViewId("settings")).toBe(false);
  });
});
