// Counts the calls one function of node:fs gets while `run` runs, with their arguments: a spy on the
// module's CommonJS object, made visible to its ES named exports with syncBuiltinESMExports (so
// modules loaded earlier in this worker see it too; test files share workers, without isolation).
import fs from "node:fs";
import { syncBuiltinESMExports } from "node:module";

type FsFunction = "openSync" | "readdirSync";

export async function fsCallsDuring(name: FsFunction, run: () => unknown): Promise<unknown[][]> {
  const original = fs[name] as (...args: unknown[]) => unknown;
  const calls: unknown[][] = [];
  (fs as unknown as Record<string, unknown>)[name] = function counted(this: unknown, ...args: unknown[]): unknown {
    calls.push(args);
    return original.apply(this, args);
  };
  syncBuiltinESMExports();
  try {
    await run();
  } finally {
    (fs as unknown as Record<string, unknown>)[name] = original;
    syncBuiltinESMExports();
  }
  return calls;
}
