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

// Test files share a worker process (vitest.config.ts, isolate: false) and this file runs again
// before each of them: the listeners are added once per process, and every file reads the same list.
const KEY = Symbol.for("selfheal.test.escaped");
const shared = globalThis as typeof globalThis & { [KEY]?: Escaped[] };
let escaped = shared[KEY];
if (escaped === undefined) {
  const list: Escaped[] = [];
  shared[KEY] = list;
  escaped = list;
  process.on("unhandledRejection", (reason) => list.push({ kind: "unhandled rejection", error: reason }));
  process.on("uncaughtException", (error) => list.push({ kind: "uncaught exception", error }));
}
const found = escaped;

// A rejection is reported only once the microtasks of its turn have run: let one turn pass before looking.
afterEach(async () => {
  await new Promise((done) => setImmediate(done));
  if (found.length === 0) return;
  const taken = found.splice(0);
  const described = taken.map(({ kind, error }) => `${kind}: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  throw new Error(`${taken.length} error(s) escaped while this test ran:\n${described.join("\n\n")}`);
});
