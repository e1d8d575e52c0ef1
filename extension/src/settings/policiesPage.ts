// The policy editor: every watched program with its command, limits, restart policy and cooldown,
// saved through SetPolicy and removed through RemovePolicy. The daemon validates exactly as it
// validates config.toml; its message is shown next to the field it is about.
//
// Rows are kept by name and updated in place: an Apply, a removal or the daemon coming back
// reloads the policies, and each row takes the daemon's values only in the fields the user has not
// changed; a row added here stays until it is applied or removed. A policy of config.toml removed
// here has a row of its own, with a way to bring it back.

import type { GLib } from "../gi/prefs.js";
import { Adw, Gtk } from "../gi/prefs.js";
import type { ManagerClient } from "../dbus/manager.js";
import { errorMessage } from "../dbus/manager.js";
import type { Translator } from "../model/i18n.js";
import { interpolate } from "../model/i18n.js";
import { markup, PolicyRow } from "./policyRow.js";

export class PoliciesPage {
  readonly page: Adw.PreferencesPage;
  #window: Adw.PreferencesWindow;
  #t: Translator;
  #client: () => ManagerClient | null;
  #group: Adw.PreferencesGroup;
  #addGroup: Adw.PreferencesGroup;
  #rows = new Map<string, PolicyRow>();
  /** config.toml's policies removed here (GetHiddenPolicies), by name. */
  #hidden = new Map<string, Adw.ActionRow>();
  /** Counts reloads, so that only the latest one's reply is shown. */
  #generation = 0;
  #closed = false;

  constructor(window: Adw.PreferencesWindow, client: () => ManagerClient | null, t: Translator) {
    this.#window = window;
    this.#t = t;
    this.#client = client;
    this.page = new Adw.PreferencesPage({ title: t.gettext("Programs"), icon_name: "view-list-symbolic" });
    this.#group = new Adw.PreferencesGroup({ title: t.gettext("Watched programs") });
    this.#addGroup = new Adw.PreferencesGroup({ title: t.gettext("Watch another program") });
    const nameEntry = new Gtk.Entry({ placeholder_text: t.gettext("a name, such as gedit"), valign: Gtk.Align.CENTER, hexpand: true, width_chars: 28 });
    const add = new Gtk.Button({ label: t.gettext("Add"), valign: Gtk.Align.CENTER, css_classes: ["suggested-action"] });
    add.connect("clicked", () => {
      const name = nameEntry.text.trim();
      if (name === "") return;
      nameEntry.text = "";
      const existing = this.#rows.get(name);
      if (existing) existing.expander.expanded = true;
      else this.#addRow(name);
    });
    const addRow = new Adw.ActionRow({ title: t.gettext("Name") });
    addRow.add_suffix(nameEntry);
    addRow.add_suffix(add);
    this.#addGroup.add(addRow);
    this.page.add(this.#group);
    this.page.add(this.#addGroup);
    this.showDisconnected();
  }

  // The window is closing: replies that arrive from now on are dropped.
  close(): void {
    this.#closed = true;
  }

  // The daemon is away: the rows stay as they are (with what was typed), greyed out.
  showDisconnected(): void {
    this.#generation++;
    this.#group.description = this.#t.gettext("selfheal is not running: start it (selfheal daemon, or its systemd unit) to edit what it watches.");
    this.#addGroup.sensitive = false;
    for (const row of this.#rows.values()) row.setConnected(false);
    for (const row of this.#hidden.values()) row.sensitive = false;
  }

  // Loads the effective policies from the daemon and brings the rows up to date, by name.
  async reload(): Promise<void> {
    const client = this.#client();
    if (!client?.connected) {
      this.showDisconnected();
      return;
    }
    const generation = ++this.#generation;
    try {
      const policies = await client.getPolicies();
      const hidden = await client.hiddenPolicies();
      if (this.#closed || generation !== this.#generation) return;
      this.#show(policies);
      this.#showHidden(hidden);
    } catch (error) {
      if (this.#closed || generation !== this.#generation) return;
      this.#group.description = interpolate(this.#t.gettext("Could not read the policies: {message}"), { message: errorMessage(error) });
    }
  }

  #show(policies: Map<string, Record<string, GLib.Variant>>): void {
    this.#group.description = this.#t.gettext("Changes apply at once and are kept by selfheal next to config.toml, which it leaves untouched.");
    this.#addGroup.sensitive = true;
    // A policy the daemon no longer has goes; a row not applied yet stays.
    for (const [name, row] of this.#rows) {
      if (row.saved && !policies.has(name)) this.#removeRow(row);
    }
    for (const name of [...policies.keys()].sort()) {
      const row = this.#rows.get(name) ?? this.#addRow(name);
      row.update(policies.get(name) ?? {});
    }
    for (const row of this.#rows.values()) row.setConnected(true);
    for (const row of this.#hidden.values()) row.sensitive = true;
  }

  #showHidden(names: readonly string[]): void {
    for (const [name, row] of this.#hidden) {
      if (names.includes(name)) continue;
      this.#group.remove(row);
      this.#hidden.delete(name);
    }
    for (const name of names) if (!this.#hidden.has(name)) this.#addHiddenRow(name);
  }

  // A policy of config.toml removed here: said, with a way to bring it back.
  #addHiddenRow(name: string): void {
    const t = this.#t;
    const row = new Adw.ActionRow({ title: markup(name), subtitle: markup(t.gettext("in config.toml, but removed here: not watched")) });
    const restore = new Gtk.Button({ label: t.gettext("Restore"), valign: Gtk.Align.CENTER });
    restore.connect("clicked", () => {
      const client = this.#client();
      if (!client?.connected) return;
      restore.sensitive = false;
      client.resetPolicy(name).then(
        () => {
          if (this.#closed) return;
          this.#toast(interpolate(t.gettext("{name} follows config.toml again"), { name }));
          void this.reload();
        },
        (error: unknown) => {
          if (this.#closed) return;
          this.#toast(errorMessage(error));
          restore.sensitive = true;
        },
      );
    });
    row.add_suffix(restore);
    this.#group.add(row);
    this.#hidden.set(name, row);
  }

  #toast(message: string): void {
    this.#window.add_toast(new Adw.Toast({ title: markup(message), timeout: 4 }));
  }

  #addRow(name: string): PolicyRow {
    const row = new PolicyRow(name, this.#t, {
      apply: (target, button) => this.#apply(target, button),
      remove: (target, button) => this.#remove(target, button),
      reset: (target, button) =>
        this.#send(target, button, (client) => client.resetPolicy(target.name), interpolate(this.#t.gettext("{name} follows config.toml again"), { name: target.name })),
    });
    this.#group.add(row.expander);
    this.#rows.set(name, row);
    return row;
  }

  #removeRow(row: PolicyRow): void {
    this.#group.remove(row.expander);
    this.#rows.delete(row.name);
  }

  #apply(row: PolicyRow, button: Gtk.Button): void {
    const policy = row.policy();
    if (!policy) return;
    this.#send(row, button, (client) => client.setPolicy(row.name, policy), interpolate(this.#t.gettext("Saved {name}"), { name: row.name }));
  }

  #remove(row: PolicyRow, button: Gtk.Button): void {
    if (!row.saved) {
      this.#removeRow(row);
      return;
    }
    this.#send(row, button, (client) => client.removePolicy(row.name), interpolate(this.#t.gettext("{name} is no longer watched"), { name: row.name }));
  }

  // Sends a change to the daemon from `button`, greyed out meanwhile: on success a toast and a
  // reload; on failure the daemon's message next to the fields and the button usable again.
  #send(row: PolicyRow, button: Gtk.Button, call: (client: ManagerClient) => Promise<unknown>, done: string): void {
    const client = this.#client();
    if (!client?.connected) {
      row.showProblems(this.#t.gettext("selfheal is not running."));
      return;
    }
    button.sensitive = false;
    call(client).then(
      () => {
        if (this.#closed) return;
        button.sensitive = true;
        row.showProblems("");
        this.#toast(done);
        void this.reload();
      },
      (error: unknown) => {
        if (this.#closed) return;
        row.showProblems(errorMessage(error));
        button.sensitive = true;
      },
    );
  }
}
