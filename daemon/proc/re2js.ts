// re2js, loaded the first time a policy's /regex/ is compiled: it is the
// largest package the daemon would otherwise load at start (about 260 KiB of
// source, which V8 keeps for the daemon's life), and most configurations name
// programs rather than patterns. Loaded synchronously (require), since a match
// is compiled while a config is validated. The build copies re2js's CommonJS
// build beside the chunks and names it in SELFHEAL_RE2JS (build.mjs); run from
// source, it is the package itself.
import type { RE2JS as Re2jsClass } from "re2js";

import { createRequire } from "node:module";

/** The build's file for re2js, relative to the chunk holding this module; undefined when run from source. */
declare const SELFHEAL_RE2JS: string | undefined;

const requireHere = createRequire(import.meta.url);
let engine: typeof Re2jsClass | null = null;

// re2js's RE2JS class, loaded on first use.
export function re2js(): typeof Re2jsClass {
  engine ??= (requireHere(typeof SELFHEAL_RE2JS === "string" ? SELFHEAL_RE2JS : "re2js") as { RE2JS: typeof Re2jsClass }).RE2JS;
  return engine;
}
