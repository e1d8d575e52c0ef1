// The extension end to end in this machine's GNOME Shell 43 with the GNOME 42–44 build: the
// checks of endToEnd.ts, and the German one (GNOME Shell 48: shell48.e2e.test.ts).
import { describeEndToEnd, describeInGerman, GNOME43 } from "./endToEnd.js";

describeEndToEnd(GNOME43);
describeInGerman(GNOME43);
