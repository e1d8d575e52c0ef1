// What the notifier tests share: a crash event to feed them, cleanups run after
// each test, and a poll for what a stand-in server has received.
import type { EngineEvent } from "../../daemon/engine/events.js";

import { afterEach } from "vitest";

// A crash by SIGSEGV that will be restarted.
export function crashed(name: string, pid: number, timeMs: number): EngineEvent {
  return {
    kind: "crashed",
    timeMs,
    name,
    pid,
    exitCode: null,
    signal: "SIGSEGV",
    statusKnown: true,
    willRestart: true,
    message: `${name} (PID ${pid}) was killed by SIGSEGV; restarting it`,
  };
}

// A list of cleanups, run newest first after each test of the calling file.
export function cleanupsAfterEach(): Array<() => unknown> {
  const cleanups: Array<() => unknown> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });
  return cleanups;
}

// Poll `received` every `pollMs` until it holds `count` items; throws `describe()` after `timeoutMs`.
export async function waitForCount<T>(received: T[], count: number, timeoutMs: number, pollMs: number, describe: () => string): Promise<T[]> {
  const deadline = Date.now() + timeoutMs;
  while (received.length < count) {
    if (Date.now() > deadline) throw new Error(describe());
    await new Promise((r) => setTimeout(r, pollMs));
  }
  return received;
}

// Poll `received` every `pollMs` for the first item that matches; throws `describe()` after `timeoutMs`.
export async function waitForMatch<T>(received: T[], match: (item: T) => boolean, timeoutMs: number, pollMs: number, describe: () => string): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = received.find(match);
    if (found !== undefined) return found;
    if (Date.now() > deadline) throw new Error(describe());
    await new Promise((r) => setTimeout(r, pollMs));
  }
}
