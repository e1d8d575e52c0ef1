import { describe, expect, it } from "vitest";
import { formatAgo, formatBytes, formatDuration, formatPercent } from "../../../extension/src/model/format.js";
import { untranslated as t } from "../untranslated.js";

const MB = 1024 * 1024;
const SECOND = 1_000_000;

describe("formatBytes", () => {
  it("uses binary units with the labels config.toml's memory_limit_mb uses", () => {
    expect(formatBytes(0, t)).toBe("0 B");
    expect(formatBytes(512, t)).toBe("512 B");
    expect(formatBytes(12 * 1024, t)).toBe("12 KB");
    expect(formatBytes(4.24 * MB, t)).toBe("4.2 MB");
    expect(formatBytes(120 * MB, t)).toBe("120 MB");
    expect(formatBytes(200 * MB, t)).toBe("200 MB");
    expect(formatBytes(1.5 * 1024 * MB, t)).toBe("1.5 GB");
  });

  it("moves up a unit rather than print 1024 of one", () => {
    expect(formatBytes(1023.7 * 1024, t)).toBe("1 MB");
  });

  it("treats negative and non-numbers as nothing", () => {
    expect(formatBytes(-5, t)).toBe("0 B");
    expect(formatBytes(Number.NaN, t)).toBe("0 B");
  });
});

describe("formatPercent", () => {
  it("shows one decimal below 10 and whole numbers above", () => {
    expect(formatPercent(0, t)).toBe("0%");
    expect(formatPercent(0.04, t)).toBe("0%");
    expect(formatPercent(3.44, t)).toBe("3.4%");
    expect(formatPercent(87.4, t)).toBe("87%");
    expect(formatPercent(250, t)).toBe("250%");
  });
});

describe("formatDuration", () => {
  it("gives the two largest units", () => {
    expect(formatDuration(0, t)).toBe("0 s");
    expect(formatDuration(44.2, t)).toBe("45 s");
    expect(formatDuration(60, t)).toBe("1 min");
    expect(formatDuration(125, t)).toBe("2 min 5 s");
    expect(formatDuration(3780, t)).toBe("1 h 3 min");
    expect(formatDuration(7200, t)).toBe("2 h");
    expect(formatDuration(2 * 86400 + 4 * 3600 + 59, t)).toBe("2 d 4 h");
  });
});

describe("formatAgo", () => {
  const now = 1_700_000_000 * SECOND;
  it("says just now, then seconds, minutes, hours and days", () => {
    expect(formatAgo(now - 3 * SECOND, now, t)).toBe("just now");
    expect(formatAgo(now - 45 * SECOND, now, t)).toBe("45 s ago");
    expect(formatAgo(now - 150 * SECOND, now, t)).toBe("2 min ago");
    expect(formatAgo(now - 3 * 3600 * SECOND, now, t)).toBe("3 h ago");
    expect(formatAgo(now - 86400 * SECOND, now, t)).toBe("1 day ago");
    expect(formatAgo(now - 3 * 86400 * SECOND, now, t)).toBe("3 days ago");
  });

  it("never reads a clock skew as the future", () => {
    expect(formatAgo(now + 5 * SECOND, now, t)).toBe("just now");
  });
});
