// Everything the preferences window needs: GTK 4, libadwaita and the ExtensionPreferences base
// class. It runs in its own process, where the shell's UI modules do not exist.
import Adw from "gi://Adw";
import Gtk from "gi://Gtk";
import { ExtensionPreferences } from "resource:///org/gnome/Shell/Extensions/js/extensions/prefs.js";

export { Gio, GLib, GObject } from "./core.js";
export { Adw, Gtk, ExtensionPreferences };
