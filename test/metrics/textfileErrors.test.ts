// A textfile that cannot be written (its folder cannot be made) is said once in
// the log, not at every scan, and the exporter runs on.
import { afterEach, describe, expect, it, vi } from "vitest";

import { MetricsExporter } from "../../daemon/metrics/exporter.js";
import { waitFor } from "../helpers/daemon.js";
import { TestSource } from "./testSource.js";

let exporter: MetricsExporter | null = null;

afterEach(async () => {
  await exporter?.stop();
  exporter = null;
  vi.restoreAllMocks();
});

describe("the metrics textfile", () => {
  it("logs a failing write once, however many scans try again", async () => {
    const log = vi.spyOn(console, "error").mockImplementation(() => undefined);
    const source = new TestSource();
    exporter = new MetricsExporter(source);
    // /dev/null is a file: no folder can be made under it (whoever runs the test, root included).
    await exporter.configure({ listen: null, textfile: "/dev/null/selfheal.prom" });
    const scan = { snapshot: { timeMs: 0, processes: new Map(), childrenOf: () => [] }, durationSec: 0.001 };
    for (let i = 0; i < 5; i++) {
      source.scan(scan);
      // The next scan's render starts once this one's is done.
      await new Promise((done) => setTimeout(done, 50));
    }
    await waitFor(() => log.mock.calls.length > 0, 10_000, () => "nothing was logged");
    await new Promise((done) => setTimeout(done, 200));
    const lines = log.mock.calls.map((call) => String(call[0])).filter((line) => line.includes("cannot write /dev/null/selfheal.prom"));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain("(said once; the daemon runs on and tries again at every scan)");
  });
});
