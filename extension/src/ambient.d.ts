// GJS globals and the gi:// / resource:// module declarations the seam (src/gi/) imports.
import "@girs/gjs";
import "@girs/gjs/dom";
import "@girs/gnome-shell/ambient";
import "@girs/gnome-shell/extensions/global";
