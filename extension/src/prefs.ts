// The preferences window: the policy editor (talking to the daemon over D-Bus) and the
// extension's own settings.
import { Adw, ExtensionPreferences, Gio } from "./gi/prefs.js";
import { ManagerClient, errorMessage, isCancelled } from "./dbus/manager.js";
import type { Translator } from "./model/i18n.js";
import { generalPage } from "./settings/generalPage.js";
import { PoliciesPage } from "./settings/policiesPage.js";

export default class SelfHealPreferences extends ExtensionPreferences {
  override fillPreferencesWindow(window: Adw.PreferencesWindow): Promise<void> {
    const t: Translator = {
      gettext: (str) => this.gettext(str),
      ngettext: (str, strPlural, n) => this.ngettext(str, strPlural, n),
    };
    const settings = this.getSettings();
    let client: ManagerClient | null = null;
    const policies = new PoliciesPage(window, () => client, t);
    window.add(policies.page);
    window.add(generalPage(settings, t));
    window.search_enabled = false;

    const cancellable = new Gio.Cancellable();
    ManagerClient.create(
      this.path,
      {
        connectionChanged: () => void policies.reload(),
        statusChanged: () => {},
        signal: () => {},
      },
      cancellable,
    ).then(
      (created) => {
        if (cancellable.is_cancelled()) {
          created.close();
          return;
        }
        client = created;
        void policies.reload();
      },
      (error: unknown) => {
        if (!isCancelled(error)) console.error(`selfheal preferences: ${errorMessage(error)}`);
      },
    );
    window.connect("close-request", () => {
      policies.close();
      cancellable.cancel();
      client?.close();
      client = null;
      return false;
    });
    return Promise.resolve();
  }
}
