// Where the keeper lives: beside the daemon's own file, or in dist/ when the
// daemon runs from its sources (native/locate.ts).
import { fileURLToPath } from "node:url";
import { locateBuilt } from "../native/locate.js";
import { KEEPER_NAME } from "./name.js";

/** The keeper found, or why there is none (said to the user: crash protection then ends with the daemon). */
export type KeeperLocation = { path: string } | { problem: string };

// The keeper executable beside `besideFile` (the bundle, when built), or in dist/ when run from the sources.
export function locateKeeper(besideFile: string = fileURLToPath(import.meta.url)): KeeperLocation {
  const location = locateBuilt(KEEPER_NAME, besideFile);
  if ("path" in location) return location;
  return {
    problem:
      `${location.missing} is missing (it is compiled by npm run build and install.sh, which need a C compiler: apt install gcc libc6-dev); ` +
      "programs are started as the daemon's own children, so a restart of the daemon ends their crash protection",
  };
}
