// The extension's own settings (the GSettings schema in schemas/): what the top bar shows and how
// often the open menu refreshes.

import type { Gio as GioTypes } from "../gi/prefs.js";
import { Adw, Gio, Gtk } from "../gi/prefs.js";
import type { Translator } from "../model/i18n.js";

// A row with a switch bound to a boolean key.
function switchRow(settings: GioTypes.Settings, key: string, title: string, subtitle: string): Adw.ActionRow {
  const row = new Adw.ActionRow({ title, subtitle });
  const toggle = new Gtk.Switch({ valign: Gtk.Align.CENTER });
  settings.bind(key, toggle, "active", Gio.SettingsBindFlags.DEFAULT);
  row.add_suffix(toggle);
  row.activatable_widget = toggle;
  return row;
}

// A row with a spin button bound to an unsigned key, within the schema's range.
function secondsRow(settings: GioTypes.Settings, key: string, title: string, subtitle: string, min: number, max: number): Adw.ActionRow {
  const row = new Adw.ActionRow({ title, subtitle });
  const spin = Gtk.SpinButton.new_with_range(min, max, 1);
  spin.valign = Gtk.Align.CENTER;
  settings.bind(key, spin, "value", Gio.SettingsBindFlags.DEFAULT);
  row.add_suffix(spin);
  return row;
}

export function generalPage(settings: GioTypes.Settings, t: Translator): Adw.PreferencesPage {
  const page = new Adw.PreferencesPage({ title: t.gettext("Top bar"), icon_name: "preferences-desktop-display-symbolic" });
  const bar = new Adw.PreferencesGroup({ title: t.gettext("Top bar") });
  bar.add(switchRow(settings, "show-count", t.gettext("Show a count"), t.gettext("How many programs crashed recently or are held back")));
  bar.add(switchRow(settings, "show-cpu", t.gettext("Show CPU use"), t.gettext("The watched programs' combined CPU, in percent of one core")));
  bar.add(secondsRow(settings, "panel-refresh-seconds", t.gettext("CPU refresh (seconds)"), t.gettext("Only polled while the CPU figure is shown"), 2, 300));
  bar.add(secondsRow(settings, "crash-highlight-seconds", t.gettext("Show a crash for (seconds)"), t.gettext("Even when selfheal restarted the program at once"), 5, 3600));
  page.add(bar);
  const menu = new Adw.PreferencesGroup({ title: t.gettext("Menu") });
  menu.add(secondsRow(settings, "menu-refresh-seconds", t.gettext("Refresh while open (seconds)"), t.gettext("Nothing is polled while the menu is closed"), 1, 60));
  page.add(menu);
  return page;
}
