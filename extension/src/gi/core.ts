// The GNOME libraries both processes use (the shell and the preferences window).
// Only src/gi/ imports gi:// or resource:// modules; the build rejects such imports anywhere else,
// and the GNOME 42–44 build rewrites the import lines of src/gi/ into imports.* and nothing else.
import Gio from "gi://Gio";
import GLib from "gi://GLib";
import GObject from "gi://GObject";

export { Gio, GLib, GObject };
