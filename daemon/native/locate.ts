// Where the small C programs built beside the daemon live (the keeper, the
// sentinel): beside the daemon's own file (dist/ after `npm run build`, the
// installed folder after install.sh); when the daemon runs from its sources
// (tests, benchmarks), the build's dist/.
import { accessSync, constants } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";

/** The program found, or the path it was looked for at (for the problem told to the user). */
export type BuiltLocation = { path: string } | { missing: string };

/** From a folder of daemon/ in the sources (daemon/keeper/, daemon/sentinel/) to the build's output. */
const DIST_FROM_SOURCES = "../../dist";
/** The folder of the code the command loads when needed (build.mjs): a module there has the programs one up, beside the command. */
const CHUNKS_FOLDER = "selfheal-chunks";

// The executable `name` beside `besideFile` (the bundle, when built), or in dist/ when run from the sources.
export function locateBuilt(name: string, besideFile: string): BuiltLocation {
  const here = dirname(besideFile);
  const beside = join(basename(here) === CHUNKS_FOLDER ? dirname(here) : here, name);
  const candidates = besideFile.endsWith(".ts") ? [beside, resolve(here, DIST_FROM_SOURCES, name)] : [beside];
  for (const path of candidates) {
    try {
      accessSync(path, constants.X_OK);
      return { path };
    } catch {
      // not there: the next place, or missing
    }
  }
  return { missing: beside };
}
