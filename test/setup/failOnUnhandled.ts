// Loaded before every test file (vitest.config.ts, setupFiles): an unhandled
// promise rejection or an uncaught exception while a test runs fails that
// test, with the error's stack. In the daemon such an error is a bug that
// would end it (or, since it now logs them, leave an `internal-error` event):
// a test must never pass beside one.
import { afterEach } from "vitest";

interface Escaped {
  kind: "unhandled rejection" | "uncaught exception";
  error: unknown;
}

const escaped: Escaped[] = [];

process.on("unhandledRejection", (reason) => escaped.push({ kind: "unhandled rejection", error: reason }));
process.on("uncaughtException", (error) => escaped.push({ kind: "uncaught exception", error }));

// A rejection is reported only once the microtasks of its turn have run: let one turn pass before looking.
afterEach(async () => {
  await new Promise((done) => setImmediate(done));
  if (escaped.length === 0) return;
  const found = escaped.splice(0);
  const described = found.map(({ kind, error }) => `${kind}: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  throw new Error(`${found.length} error(s) escaped while this test ran:\n${described.join("\n\n")}`);
});
