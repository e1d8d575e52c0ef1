// The extension end to end in real shells: the GNOME 45+ build in GNOME Shell 48 (a Debian 13 root
// file system, built once by scripts/gnome-shell-48-root.sh), then the GNOME 42–44 build in this
// machine's GNOME Shell 43; one after the other, so that their figures are not taken side by side.
// The checks are the same for both (endToEnd.ts), and so is the German one.
import type { ShellTarget } from "./endToEnd.js";
import { describeEndToEnd, describeInGerman } from "./endToEnd.js";

const GNOME48: ShellTarget = { title: "GNOME Shell 48, GNOME 45+ build", shell: "gnome48", build: "gnome45", screenshots: "gnome48", activeState: "ACTIVE" };
const GNOME43: ShellTarget = { title: "GNOME Shell 43, GNOME 42–44 build", shell: "host", build: "gnome42", screenshots: "gnome43", activeState: "ENABLED" };

describeEndToEnd(GNOME48);

describeInGerman(GNOME48);

describeEndToEnd(GNOME43);
describeInGerman(GNOME43);
