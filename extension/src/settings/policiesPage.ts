// The policy editor: every watched program with its command, limits, restart policy and cooldown,
// saved through SetPolicy and removed through RemovePolicy. The daemon validates exactly as it
// validates config.toml; its message is shown under the program it is about.
import { Adw, GLib, Gtk } from "../gi/prefs.js";
import type { ManagerClient } from "../dbus/manager.js";
import { errorMessage } from "../dbus/manager.js";
import type { Translator } from "../model/i18n.js";
import { interpolate } from "../model/i18n.js";
import type { LimitScope, PolicyForm, RestartMode, TypedEntry, ViolationAction } from "../model/policy.js";
import { FORM_KEYS, formFromPolicy, LAYER_KEYS, LIMIT_SCOPES, overrideNote, POLICY_DEFAULTS, policyEntries, RESTART_MODES, unsetKeys, VIOLATION_ACTIONS } from "../model/policy.js";

type Original = Record<string, GLib.Variant>;

// Row titles, subtitles and toasts are Pango markup: a command like `a & b` must be escaped.
function markup(text: string): string {
  return GLib.markup_escape_text(text, -1);
}

// SetPolicy's a{sv}: the form's entries, the keys the form does not edit as they came, and the keys
// to leave out. The daemon keeps only what differs from config.toml, so its other keys keep applying.
function policyVariants(form: PolicyForm, original: Original): Record<string, GLib.Variant> {
  const toVariant = (entry: TypedEntry): GLib.Variant =>
    entry.signature === "a{sv}"
      ? new GLib.Variant("a{sv}", Object.fromEntries((entry.value as TypedEntry[]).map((inner) => [inner.key, toVariant(inner)])))
      : new GLib.Variant(entry.signature, entry.value);
  const result: Record<string, GLib.Variant> = {};
  for (const [key, value] of Object.entries(original)) {
    if (!(FORM_KEYS as readonly string[]).includes(key) && !(LAYER_KEYS as readonly string[]).includes(key)) result[key] = value;
  }
  const entries = policyEntries(form);
  for (const entry of entries) result[entry.key] = toVariant(entry);
  const unset = unsetKeys(plainPolicy(original), entries);
  if (unset.length > 0) result.unset = new GLib.Variant("as", unset);
  return result;
}

function plainPolicy(original: Original): Record<string, unknown> {
  return Object.fromEntries(Object.entries(original).map(([key, value]) => [key, value.recursiveUnpack()]));
}

// A drop-down over fixed values, shown with translated labels.
function choice<T extends string>(values: readonly T[], labels: readonly string[], selected: T): { widget: Gtk.DropDown; value(): T } {
  const widget = Gtk.DropDown.new_from_strings([...labels]);
  widget.valign = Gtk.Align.CENTER;
  widget.selected = Math.max(0, values.indexOf(selected));
  return { widget, value: () => values[widget.selected] ?? (values[0] as T) };
}

function spin(value: number, min: number, max: number, step: number, digits = 0): Gtk.SpinButton {
  const button = Gtk.SpinButton.new_with_range(min, max, step);
  button.digits = digits;
  button.value = value;
  button.valign = Gtk.Align.CENTER;
  return button;
}

function entry(text: string, placeholder: string): Gtk.Entry {
  return new Gtk.Entry({ text, placeholder_text: placeholder, valign: Gtk.Align.CENTER, hexpand: true, width_chars: 28 });
}

function labeledRow(title: string, widget: Gtk.Widget, subtitle = ""): Adw.ActionRow {
  const row = new Adw.ActionRow({ title, subtitle });
  row.add_suffix(widget);
  return row;
}

export class PoliciesPage {
  readonly page: Adw.PreferencesPage;
  #window: Adw.PreferencesWindow;
  #t: Translator;
  #client: () => ManagerClient | null;
  #group: Adw.PreferencesGroup;
  #addGroup: Adw.PreferencesGroup;
  #rows: Adw.PreferencesRow[] = [];
  #closed = false;

  constructor(window: Adw.PreferencesWindow, client: () => ManagerClient | null, t: Translator) {
    this.#window = window;
    this.#t = t;
    this.#client = client;
    this.page = new Adw.PreferencesPage({ title: t.gettext("Programs"), icon_name: "view-list-symbolic" });
    this.#group = new Adw.PreferencesGroup({ title: t.gettext("Watched programs") });
    this.#addGroup = new Adw.PreferencesGroup({ title: t.gettext("Watch another program") });
    const nameEntry = entry("", t.gettext("a name, such as gedit"));
    const add = new Gtk.Button({ label: t.gettext("Add"), valign: Gtk.Align.CENTER, css_classes: ["suggested-action"] });
    add.connect("clicked", () => {
      const name = nameEntry.text.trim();
      if (name === "") return;
      nameEntry.text = "";
      this.#addPolicyRow(name, {}, true);
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

  showDisconnected(): void {
    this.#clearRows();
    this.#group.description = this.#t.gettext("selfheal is not running: start it (selfheal daemon, or its systemd unit) to edit what it watches.");
    this.#addGroup.sensitive = false;
  }

  // Loads the effective policies from the daemon and shows one expandable row per program.
  async reload(): Promise<void> {
    const client = this.#client();
    if (!client?.connected) {
      this.showDisconnected();
      return;
    }
    try {
      const policies = await client.getPolicies();
      if (this.#closed) return;
      this.#clearRows();
      this.#group.description = this.#t.gettext("Changes apply at once and are kept by selfheal next to config.toml, which it leaves untouched.");
      this.#addGroup.sensitive = true;
      for (const name of [...policies.keys()].sort()) this.#addPolicyRow(name, policies.get(name) ?? {}, false);
      for (const name of await client.hiddenPolicies()) if (!this.#closed) this.#addHiddenRow(name);
    } catch (error) {
      if (this.#closed) return;
      this.#group.description = interpolate(this.#t.gettext("Could not read the policies: {message}"), { message: errorMessage(error) });
    }
  }

  #clearRows(): void {
    for (const row of this.#rows) this.#group.remove(row);
    this.#rows = [];
  }

  #toast(message: string): void {
    this.#window.add_toast(new Adw.Toast({ title: markup(message), timeout: 4 }));
  }

  #addPolicyRow(name: string, original: Original, isNew: boolean): void {
    const t = this.#t;
    const form = isNew ? { ...POLICY_DEFAULTS, name, command: name } : formFromPolicy(name, plainPolicy(original));
    // Where the settings come from: a marker when some are set here over config.toml.
    const note = isNew ? "" : overrideNote(plainPolicy(original), t);
    const expander = new Adw.ExpanderRow({
      title: markup(name),
      subtitle: markup(isNew ? t.gettext("not saved yet") : note === "" ? form.command : `${form.command} · ${note}`),
      expanded: isNew,
    });

    const command = entry(form.command, t.gettext("program and arguments"));
    const match = entry(form.match, t.gettext("the command's name"));
    const cpu = spin(form.cpuLimit, 0, 100 * 1024, 5, 1);
    const memory = spin(form.memoryLimitMb, 0, 16 * 1024 * 1024, 50);
    const restart = choice<RestartMode>(RESTART_MODES, [t.gettext("On failure"), t.gettext("Always"), t.gettext("Never")], form.restart);
    const onViolation = choice<ViolationAction>(VIOLATION_ACTIONS, [t.gettext("Restart"), t.gettext("Kill"), t.gettext("Notify only")], form.onViolation);
    const scope = choice<LimitScope>(LIMIT_SCOPES, [t.gettext("Whole process tree"), t.gettext("Process alone")], form.scope);
    const sustain = spin(form.sustain, 1, 1000, 1);
    const autostart = new Gtk.Switch({ active: form.autostart, valign: Gtk.Align.CENTER });
    const maxRestarts = spin(form.cooldownMaxRestarts, 1, 1000, 1);
    const window = spin(form.cooldownWindow, 1, 86_400, 10);
    const pause = spin(form.cooldownPause, 1, 86_400, 10);

    const rows: Adw.ActionRow[] = [
      labeledRow(t.gettext("Command"), command),
      labeledRow(t.gettext("Match"), match, t.gettext("comm, executable name or /regex/ on the command line")),
      labeledRow(t.gettext("CPU limit (%)"), cpu, t.gettext("of one core; 0 for none")),
      labeledRow(t.gettext("Memory limit (MB)"), memory, t.gettext("0 for none")),
      labeledRow(t.gettext("Limits count"), scope.widget),
      labeledRow(t.gettext("Over a limit for (scans)"), sustain),
      labeledRow(t.gettext("Then"), onViolation.widget),
      labeledRow(t.gettext("Restart"), restart.widget),
      labeledRow(t.gettext("Start with selfheal"), autostart),
      labeledRow(t.gettext("Cooldown after (restarts)"), maxRestarts),
      labeledRow(t.gettext("within (seconds)"), window),
      labeledRow(t.gettext("pausing restarts for (seconds)"), pause),
    ];
    for (const row of rows) expander.add_row(row);

    const problem = new Gtk.Label({ wrap: true, xalign: 0, css_classes: ["error"], visible: false, margin_top: 6, margin_bottom: 6, margin_start: 12, margin_end: 12 });
    expander.add_row(new Adw.PreferencesRow({ child: problem, activatable: false }));

    const apply = new Gtk.Button({ label: t.gettext("Apply"), css_classes: ["suggested-action"], valign: Gtk.Align.CENTER });
    const remove = new Gtk.Button({ label: t.gettext("Remove"), css_classes: ["destructive-action"], valign: Gtk.Align.CENTER });
    const actions = new Adw.ActionRow({ title: "" });
    actions.add_suffix(remove);
    // Settings set here over config.toml's policy: a way back to config.toml alone.
    const reset = new Gtk.Button({ label: t.gettext("Use config.toml"), valign: Gtk.Align.CENTER, visible: plainPolicy(original).origin === "config.toml+D-Bus" });
    actions.add_suffix(reset);
    actions.add_suffix(apply);
    expander.add_row(actions);

    const showProblem = (message: string): void => {
      problem.label = message;
      problem.visible = message !== "";
    };

    // Sends a change to the daemon from `button`, greyed out meanwhile: on success `done` and a
    // reload; on failure the daemon's message under the form and the button usable again.
    const send = (button: Gtk.Button, call: (client: ManagerClient) => Promise<unknown>, done: () => void): void => {
      const client = this.#client();
      if (!client?.connected) {
        showProblem(t.gettext("selfheal is not running."));
        return;
      }
      button.sensitive = false;
      call(client).then(
        () => {
          if (this.#closed) return;
          done();
          void this.reload();
        },
        (error: unknown) => {
          if (this.#closed) return;
          showProblem(errorMessage(error));
          button.sensitive = true;
        },
      );
    };

    apply.connect("clicked", () => {
      const edited: PolicyForm = {
        name,
        command: command.text,
        match: match.text,
        cpuLimit: cpu.value,
        memoryLimitMb: memory.value,
        restart: restart.value(),
        onViolation: onViolation.value(),
        scope: scope.value(),
        sustain: sustain.value,
        autostart: autostart.active,
        cooldownMaxRestarts: maxRestarts.value,
        cooldownWindow: window.value,
        cooldownPause: pause.value,
      };
      let variants: Record<string, GLib.Variant>;
      try {
        variants = policyVariants(edited, original);
      } catch (error) {
        showProblem(errorMessage(error));
        return;
      }
      send(
        apply,
        (client) => client.setPolicy(name, variants),
        () => {
          showProblem("");
          expander.subtitle = markup(command.text);
          this.#toast(interpolate(t.gettext("Saved {name}"), { name }));
        },
      );
    });

    reset.connect("clicked", () => {
      send(
        reset,
        (client) => client.resetPolicy(name),
        () => this.#toast(interpolate(t.gettext("{name} follows config.toml again"), { name })),
      );
    });

    remove.connect("clicked", () => {
      if (isNew) {
        this.#removeRow(expander);
        return;
      }
      send(
        remove,
        (client) => client.removePolicy(name),
        () => this.#toast(interpolate(t.gettext("{name} is no longer watched"), { name })),
      );
    });

    this.#group.add(expander);
    this.#rows.push(expander);
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
    this.#rows.push(row);
  }

  #removeRow(row: Adw.PreferencesRow): void {
    this.#group.remove(row);
    this.#rows = this.#rows.filter((other) => other !== row);
  }
}

