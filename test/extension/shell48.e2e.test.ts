// The extension end to end in GNOME Shell 48 (a Debian 13 root file system, built once by
// scripts/gnome-shell-48-root.sh) with the GNOME 45+ build: the checks of endToEnd.ts, and the
// German one. GNOME Shell 43 has a file of its own (shell43.e2e.test.ts), so that the two shells
// run in two of vitest's forks at once; the figures that must not be taken side by side (the
// menu's opens) are taken by `npm run bench` (bench/shellMenu.ts), one shell after the other.
import { describeEndToEnd, describeInGerman, GNOME48 } from "./endToEnd.js";

describeEndToEnd(GNOME48);
describeInGerman(GNOME48);
