// Where the keeper lives: beside the daemon's own file (dist/ after
// `npm run build`, the installed folder after install.sh); when the daemon
// runs from its sources (tests, benchmarks), the build's dist/.
import { accessSync, constants } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { KEEPER_NAME } from "./name.js";

/** The keeper found, or why there is none (said to the user: crash protection then ends with the daemon). */
export type KeeperLocation = { path: string } | { problem: string };

/** From daemon/keeper/ in the sources to the build's output. */
const DIST_FROM_SOURCES = "../../dist";
/** The folder of the code the command loads when needed (build.mjs): this module is there, the keeper one up, beside the command. */
const CHUNKS_FOLDER = "selfheal-chunks";

// The keeper executable beside `besideFile` (the bundle, when built), or in dist/ when run from the sources.
export function locateKeeper(besideFile: string = fileURLToPath(import.meta.url)): KeeperLocation {
  const here = dirname(besideFile);
  const beside = join(basename(here) === CHUNKS_FOLDER ? dirname(here) : here, KEEPER_NAME);
  const candidates = besideFile.endsWith(".ts") ? [beside, resolve(dirname(besideFile), DIST_FROM_SOURCES, KEEPER_NAME)] : [beside];
  for (const path of candidates) {
    try {
      accessSync(path, constants.X_OK);
      return { path };
    } catch {
      // not there: the next place, or the problem below
    }
  }
  return {
    problem:
      `${beside} is missing (it is compiled by npm run build and install.sh, which need a C compiler: apt install gcc libc6-dev); ` +
      "programs are started as the daemon's own children, so a restart of the daemon ends their crash protection",
  };
}
