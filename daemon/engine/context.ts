// What the engine's parts (life cycle, adoption, limits) share: the ports, the
// units, the cooldown tracker, the last scan and the configuration in force;
// and the one way a bug inside them is told (never thrown out of the engine).
import type { Config } from "../config/policy.js";
import type { CooldownTracker } from "../cooldown/tracker.js";
import type { ProcessSnapshot } from "../proc/types.js";
import { EngineError } from "./errors.js";
import type { EngineEvent } from "./events.js";
import type { EngineDeps } from "./ports.js";
import type { Unit } from "./unit.js";

export interface EngineContext {
  readonly deps: EngineDeps;
  /** The units by policy name; a unit no longer in here was removed with its policy. */
  readonly units: ReadonlyMap<string, Unit>;
  readonly cooldown: CooldownTracker;
  /** Only this user's processes are adopted. */
  readonly uid: number;
  /** The last scan, or null before the first. */
  snapshot(): ProcessSnapshot | null;
  config(): Config;
  /** True once shutdown began: nothing is started any more. */
  shuttingDown(): boolean;
  emit(event: EngineEvent): void;
  /** A bug caught inside the engine: logged with its stack, told as an internal-error event; never thrown. */
  internalError(where: string, error: unknown): void;
}

export const MS_PER_SEC = 1000;
/** The same bug (where and message) is told at most once in this long, so a fault on every scan does not flood the log. */
export const INTERNAL_ERROR_REPEAT_MS = 60_000;
/** Past this many remembered faults, those past their quiet time are forgotten. */
const INTERNAL_ERROR_KEYS_KEPT = 64;

// Tells bugs caught inside the engine: logged with their stack and emitted as
// internal-error events; the engine carries on.
export class InternalErrors {
  private readonly lastTold = new Map<string, number>();

  constructor(private readonly ctx: Pick<EngineContext, "emit" | "deps">) {}

  report(where: string, error: unknown): void {
    const firstLine = error instanceof Error ? error.message : String(error);
    const now = this.ctx.deps.clock.now();
    const key = `${where}\0${firstLine}`;
    const last = this.lastTold.get(key);
    if (last !== undefined && now - last < INTERNAL_ERROR_REPEAT_MS) return;
    // Forget what is past its quiet time, so distinct faults over a long run do not pile up here.
    if (this.lastTold.size >= INTERNAL_ERROR_KEYS_KEPT) {
      for (const [told, at] of this.lastTold) if (now - at >= INTERNAL_ERROR_REPEAT_MS) this.lastTold.delete(told);
    }
    this.lastTold.set(key, now);
    const text = error instanceof Error ? (error.stack ?? error.message) : String(error);
    console.error(`selfheal: internal error while ${where}:\n${text}`);
    this.ctx.emit({ kind: "internal-error", timeMs: now, where, error: text, message: `internal error while ${where}: ${firstLine}; selfheal carries on` });
  }
}

// A callback for a timer or an exit listener: whatever it throws is told, never thrown.
export function guarded(ctx: Pick<EngineContext, "internalError">, where: string, fn: () => void): () => void {
  return () => {
    try {
      fn();
    } catch (error) {
      ctx.internalError(where, error);
    }
  };
}

// Let a promise run on its own. A refused or failed action (EngineError) was
// already told by its event; anything else is a bug, told as one.
export function detach(ctx: Pick<EngineContext, "internalError">, where: string, promise: Promise<unknown>): Promise<void> {
  return promise.then(() => undefined, (error: unknown) => {
    if (!(error instanceof EngineError)) ctx.internalError(where, error);
  });
}
