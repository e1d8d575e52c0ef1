// Where the keeper lives: beside the daemon's own file (dist/ after
// `npm run build`, the installed folder after install.sh).
import { accessSync, constants } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { KEEPER_NAME } from "./name.js";

/** The keeper found, or why there is none (said to the user: crash protection then ends with the daemon). */
export type KeeperLocation = { path: string } | { problem: string };

// The keeper executable beside `besideFile` (the bundle, when built).
export function locateKeeper(besideFile: string = fileURLToPath(import.meta.url)): KeeperLocation {
  const path = join(dirname(besideFile), KEEPER_NAME);
  try {
    accessSync(path, constants.X_OK);
    return { path };
  } catch {
    return {
      problem:
        `${path} is missing (it is compiled by npm run build and install.sh, which need a C compiler: apt install gcc libc6-dev); ` +
        "programs are started as the daemon's own children, so a restart of the daemon ends their crash protection",
    };
  }
}
