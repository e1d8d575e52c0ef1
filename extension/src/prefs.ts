// The preferences window's entry point.
import { Adw, ExtensionPreferences } from "./gi/prefs.js";

export default class SelfHealPreferences extends ExtensionPreferences {
  override fillPreferencesWindow(window: Adw.PreferencesWindow): Promise<void> {
    const page = new Adw.PreferencesPage({ title: this.gettext("Settings") });
    window.add(page);
    return Promise.resolve();
  }
}
