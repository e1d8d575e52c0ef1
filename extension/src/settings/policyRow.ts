// One program's expandable row in the policy editor: its fields, Apply and Remove. The daemon's
// values come in through update(), field by field, so that what the user typed and has not
// applied yet stays as typed; the daemon's refusal is shown next to the field it is about.
import { Adw, GLib, Gtk } from "../gi/prefs.js";
import type { Translator } from "../model/i18n.js";
import type { LimitScope, PolicyForm, PolicyProblems, RestartMode, TypedEntry, ViolationAction } from "../model/policy.js";
import { interpolate } from "../model/i18n.js";
import {
  CommandSyntaxError,
  FORM_KEYS,
  formFromPolicy,
  LAYER_KEYS,
  LIMIT_SCOPES,
  mergeForm,
  overrideNote,
  POLICY_DEFAULTS,
  policyEntries,
  policyProblems,
  RESTART_MODES,
  unsetKeys,
  VIOLATION_ACTIONS,
} from "../model/policy.js";

/** A policy as GetPolicies gives it: config.toml's keys, each value a Variant. */
export type PolicyVariants = Record<string, GLib.Variant>;

// Row titles, subtitles and toasts are Pango markup: a command like `a & b` must be escaped.
export function markup(text: string): string {
  return GLib.markup_escape_text(text, -1);
}

// SetPolicy's a{sv}: the form's entries, the keys the form does not edit as they came, and the keys
// to leave out. The daemon keeps only what differs from config.toml, so its other keys keep applying.
function policyVariants(form: PolicyForm, original: PolicyVariants): PolicyVariants {
  const toVariant = (entry: TypedEntry): GLib.Variant =>
    entry.signature === "a{sv}"
      ? new GLib.Variant("a{sv}", Object.fromEntries((entry.value as TypedEntry[]).map((inner) => [inner.key, toVariant(inner)])))
      : new GLib.Variant(entry.signature, entry.value);
  const result: PolicyVariants = {};
  for (const [key, value] of Object.entries(original)) {
    if (!(FORM_KEYS as readonly string[]).includes(key) && !(LAYER_KEYS as readonly string[]).includes(key)) result[key] = value;
  }
  const entries = policyEntries(form);
  for (const entry of entries) result[entry.key] = toVariant(entry);
  const unset = unsetKeys(plainPolicy(original), entries);
  if (unset.length > 0) result.unset = new GLib.Variant("as", unset);
  return result;
}

function plainPolicy(original: PolicyVariants): Record<string, unknown> {
  return Object.fromEntries(Object.entries(original).map(([key, value]) => [key, value.recursiveUnpack()]));
}

// A drop-down over fixed values, shown with translated labels.
function choice<T extends string>(values: readonly T[], labels: readonly string[]): { widget: Gtk.DropDown; value(): T; set(value: T): void } {
  const widget = Gtk.DropDown.new_from_strings([...labels]);
  widget.valign = Gtk.Align.CENTER;
  return {
    widget,
    value: () => values[widget.selected] ?? (values[0] as T),
    set: (value) => {
      widget.selected = Math.max(0, values.indexOf(value));
    },
  };
}

function spin(min: number, max: number, step: number, digits = 0): Gtk.SpinButton {
  const button = Gtk.SpinButton.new_with_range(min, max, step);
  button.digits = digits;
  button.valign = Gtk.Align.CENTER;
  return button;
}

function entry(placeholder: string): Gtk.Entry {
  return new Gtk.Entry({ placeholder_text: placeholder, valign: Gtk.Align.CENTER, hexpand: true, width_chars: 28 });
}

/** What the row asks of the page: send its policy, remove it, or go back to config.toml's. */
export interface PolicyRowHandlers {
  apply(row: PolicyRow, button: Gtk.Button): void;
  remove(row: PolicyRow, button: Gtk.Button): void;
  reset(row: PolicyRow, button: Gtk.Button): void;
}

// A field's row: titled, with a hint as its subtitle unless the daemon refused the field.
interface Field {
  row: Adw.ActionRow;
  hint: string;
}

export class PolicyRow {
  readonly name: string;
  readonly expander: Adw.ExpanderRow;
  #t: Translator;
  /** Whether the daemon has this policy (false for a row added here and not applied yet). */
  #saved = false;
  /** What the daemon sent last (for a new row, what the row started with). */
  #shown: PolicyForm;
  #original: PolicyVariants = {};
  #fields = new Map<string, Field>();
  #problem: Gtk.Label;
  #reset: Gtk.Button;
  #read: () => PolicyForm;
  #write: (form: PolicyForm) => void;

  constructor(name: string, t: Translator, handlers: PolicyRowHandlers) {
    this.name = name;
    this.#t = t;
    this.#shown = { ...POLICY_DEFAULTS, name, command: name };
    this.expander = new Adw.ExpanderRow({ title: markup(name), subtitle: markup(t.gettext("not saved yet")), expanded: true });

    const command = entry(t.gettext("program and arguments"));
    const match = entry(t.gettext("the command's name"));
    const cpu = spin(0, 100 * 1024, 5, 1);
    const memory = spin(0, 16 * 1024 * 1024, 50);
    const restart = choice<RestartMode>(RESTART_MODES, [t.gettext("On failure"), t.gettext("Always"), t.gettext("Never")]);
    const onViolation = choice<ViolationAction>(VIOLATION_ACTIONS, [t.gettext("Restart"), t.gettext("Kill"), t.gettext("Notify only")]);
    const scope = choice<LimitScope>(LIMIT_SCOPES, [t.gettext("Whole process tree"), t.gettext("Process alone")]);
    const sustain = spin(1, 1000, 1);
    const memorySustain = spin(0, 3600, 0.05, 2);
    const autostart = new Gtk.Switch({ valign: Gtk.Align.CENTER });
    const maxRestarts = spin(1, 1000, 1);
    const window = spin(1, 86_400, 10);
    const pause = spin(1, 86_400, 10);

    // [config.toml key, title, editor, hint]
    const fields: Array<[string, string, Gtk.Widget, string]> = [
      ["command", t.gettext("Command"), command, ""],
      ["match", t.gettext("Match"), match, t.gettext("comm, executable name or /regex/ on the command line")],
      ["cpu_limit", t.gettext("CPU limit (%)"), cpu, t.gettext("of one core; 0 for none")],
      ["memory_limit_mb", t.gettext("Memory limit (MB)"), memory, t.gettext("0 for none")],
      ["scope", t.gettext("Limits count"), scope.widget, ""],
      ["sustain", t.gettext("Over the CPU limit for (scans)"), sustain, ""],
      ["memory_sustain", t.gettext("Over the memory limit for (seconds)"), memorySustain, t.gettext("0 acts at once")],
      ["on_violation", t.gettext("Then"), onViolation.widget, ""],
      ["restart", t.gettext("Restart"), restart.widget, ""],
      ["autostart", t.gettext("Start with selfheal"), autostart, ""],
      ["cooldown.max_restarts", t.gettext("Cooldown after (restarts)"), maxRestarts, ""],
      ["cooldown.window", t.gettext("within (seconds)"), window, ""],
      ["cooldown.pause", t.gettext("pausing restarts for (seconds)"), pause, ""],
    ];
    for (const [key, title, editor, hint] of fields) {
      const row = new Adw.ActionRow({ title, subtitle: hint });
      row.add_suffix(editor);
      this.expander.add_row(row);
      this.#fields.set(key, { row, hint });
    }

    this.#read = () => ({
      name,
      command: command.text,
      match: match.text,
      cpuLimit: cpu.value,
      memoryLimitMb: memory.value,
      restart: restart.value(),
      onViolation: onViolation.value(),
      scope: scope.value(),
      sustain: sustain.value,
      memorySustain: memorySustain.value,
      autostart: autostart.active,
      cooldownMaxRestarts: maxRestarts.value,
      cooldownWindow: window.value,
      cooldownPause: pause.value,
    });
    // Only what differs is set, so that an entry being typed into keeps its cursor.
    this.#write = (form) => {
      if (command.text !== form.command) command.text = form.command;
      if (match.text !== form.match) match.text = form.match;
      if (cpu.value !== form.cpuLimit) cpu.value = form.cpuLimit;
      if (memory.value !== form.memoryLimitMb) memory.value = form.memoryLimitMb;
      restart.set(form.restart);
      onViolation.set(form.onViolation);
      scope.set(form.scope);
      if (sustain.value !== form.sustain) sustain.value = form.sustain;
      if (memorySustain.value !== form.memorySustain) memorySustain.value = form.memorySustain;
      if (autostart.active !== form.autostart) autostart.active = form.autostart;
      if (maxRestarts.value !== form.cooldownMaxRestarts) maxRestarts.value = form.cooldownMaxRestarts;
      if (window.value !== form.cooldownWindow) window.value = form.cooldownWindow;
      if (pause.value !== form.cooldownPause) pause.value = form.cooldownPause;
    };
    this.#write(this.#shown);

    this.#problem = new Gtk.Label({ wrap: true, xalign: 0, css_classes: ["error"], visible: false, margin_top: 6, margin_bottom: 6, margin_start: 12, margin_end: 12 });
    this.expander.add_row(new Adw.PreferencesRow({ child: this.#problem, activatable: false }));

    const apply = new Gtk.Button({ label: t.gettext("Apply"), css_classes: ["suggested-action"], valign: Gtk.Align.CENTER });
    const remove = new Gtk.Button({ label: t.gettext("Remove"), css_classes: ["destructive-action"], valign: Gtk.Align.CENTER });
    // Settings set here over config.toml's policy: a way back to config.toml alone.
    this.#reset = new Gtk.Button({ label: t.gettext("Use config.toml"), valign: Gtk.Align.CENTER, visible: false });
    apply.connect("clicked", () => handlers.apply(this, apply));
    remove.connect("clicked", () => handlers.remove(this, remove));
    this.#reset.connect("clicked", () => handlers.reset(this, this.#reset));
    const actions = new Adw.ActionRow({ title: "" });
    actions.add_suffix(remove);
    actions.add_suffix(this.#reset);
    actions.add_suffix(apply);
    this.expander.add_row(actions);
  }

  get saved(): boolean {
    return this.#saved;
  }

  // The daemon's policy, as GetPolicies gave it: fields the user has not changed follow it.
  update(original: PolicyVariants): void {
    const plain = plainPolicy(original);
    const incoming = formFromPolicy(this.name, plain);
    this.#write(mergeForm(this.#read(), this.#shown, incoming));
    this.#shown = incoming;
    this.#original = original;
    if (!this.#saved) this.expander.expanded = false;
    this.#saved = true;
    // Where the settings come from: a marker when some are set here over config.toml.
    const note = overrideNote(plain, this.#t);
    this.expander.subtitle = markup(note === "" ? incoming.command : `${incoming.command} · ${note}`);
    this.#reset.visible = plain.origin === "config.toml+D-Bus";
  }

  // SetPolicy's a{sv} for what the fields say now; null, with the problem shown at the command,
  // for a command it cannot split.
  policy(): PolicyVariants | null {
    try {
      return policyVariants(this.#read(), this.#original);
    } catch (error) {
      if (!(error instanceof CommandSyntaxError)) throw error;
      const problem = interpolate(this.#t.gettext("the command has an unclosed {quote} quote"), { quote: error.quote });
      this.#showProblems({ byKey: new Map([["command", problem]]), other: [] });
      return null;
    }
  }

  // Shows the daemon's refusal (or the form's own complaint): each line next to the field it
  // names, the rest under the form. An empty message clears them.
  showProblems(message: string): void {
    this.#showProblems(policyProblems(message));
  }

  #showProblems({ byKey, other }: PolicyProblems): void {
    for (const [key, { row, hint }] of this.#fields) {
      // A refusal of the whole cooldown table is shown at its first field.
      const problem = byKey.get(key) ?? (key === "cooldown.max_restarts" ? byKey.get("cooldown") : undefined);
      if (problem === undefined) {
        row.remove_css_class("error");
        row.subtitle = markup(hint);
      } else {
        row.add_css_class("error");
        row.subtitle = markup(problem);
        this.expander.expanded = true;
      }
    }
    this.#problem.label = other.join("\n");
    this.#problem.visible = other.length > 0;
  }

  // Whether the daemon is there to take edits.
  setConnected(connected: boolean): void {
    this.expander.sensitive = connected;
  }
}
