// Small building blocks of the menu's views: labels, buttons styled by the shell theme, and a
// list that keeps one row actor per key and updates it in place.
import { Clutter, St, verticalBox } from "../gi/ext.js";

// A one-line label; `styleClass` also names its column, which sets its width.
export function cell(text: string, styleClass: string): St.Label {
  return new St.Label({ text, style_class: styleClass, y_align: Clutter.ActorAlign.CENTER });
}

export interface ButtonOptions {
  accessibleName: string;
  styleClass?: string;
  onClick: () => void;
}

// A flat round button with a symbolic icon, in the theme's icon-button style.
export function iconButton(iconName: string, options: ButtonOptions): St.Button {
  const button = new St.Button({
    style_class: `icon-button flat selfheal-icon-button ${options.styleClass ?? ""}`.trim(),
    child: new St.Icon({ icon_name: iconName }),
    can_focus: true,
    accessible_name: options.accessibleName,
    y_align: Clutter.ActorAlign.CENTER,
  });
  button.connect("clicked", () => options.onClick());
  return button;
}

// A text button in the theme's button style.
export function textButton(label: string, options: Omit<ButtonOptions, "accessibleName">): St.Button {
  const button = new St.Button({
    style_class: `button selfheal-text-button ${options.styleClass ?? ""}`.trim(),
    label,
    can_focus: true,
    x_align: Clutter.ActorAlign.START,
  });
  button.connect("clicked", () => options.onClick());
  return button;
}

// Shows or hides a button and makes it (un)clickable with it, keeping its column's width.
export function setAvailable(button: St.Button, available: boolean): void {
  button.reactive = available;
  button.can_focus = available;
  button.opacity = available ? 255 : 0;
}

// Enables or disables a button that stays visible (greyed out while an action runs).
export function setSensitive(button: St.Button, sensitive: boolean): void {
  button.reactive = sensitive;
  button.can_focus = sensitive;
  if (sensitive) button.remove_style_pseudo_class("insensitive");
  else button.add_style_pseudo_class("insensitive");
}

export function setText(label: St.Label, text: string): void {
  if (label.text !== text) label.text = text;
}

// Adds or removes one style class.
export function setFlag(actor: St.Widget, styleClass: string, on: boolean): void {
  if (on) actor.add_style_class_name(styleClass);
  else actor.remove_style_class_name(styleClass);
}

// Keeps exactly one of `classes` on `actor`.
export function setOneClass(actor: St.Widget, classes: readonly string[], chosen: string): void {
  for (const name of classes) {
    if (name === chosen) actor.add_style_class_name(name);
    else actor.remove_style_class_name(name);
  }
}

/** The style class of rows a notification led to. */
export const MARKED_ROW_CLASS = "selfheal-row-marked";

/** From this many new rows on, a render builds them with the list out of the stage. */
const BATCH_DETACH_ROWS = 8;
/**
 * A list that builds its rows by frames (KeyedListOptions.afterNextFrame) holds this many rows
 * before it is on show: as many as the menu's scroll view shows (24em of rows about 2em high: 11
 * and a half), so that the menu's first frame has the rows in sight without building them; once on
 * show, it builds this many more after each frame painted, instead of every row's widgets, style,
 * layout and drawing in one frame.
 */
export const ROWS_PER_FRAME = 12;

export interface RowWidget<Row> {
  actor: St.Widget;
  update(row: Row): void;
}

export interface KeyedListOptions {
  /**
   * Runs a callback after the next frame is painted. With it, a render builds new rows only up to
   * ROWS_PER_FRAME rows in all, and the list on show builds the others ROWS_PER_FRAME a frame;
   * without it, a render builds them all.
   */
  afterNextFrame?: (callback: () => void) => void;
  /** Called after a render or a later frame's pass built rows. */
  onRowsBuilt?: () => void;
}

// Resolves the style of `actor` and of everything in it that is not hidden, parents first (a
// widget whose style is resolved marks its children's as due), while it is out of sight: showing
// it then resolves none. Hidden parts (rows kept for later, the other state's items) resolve
// theirs when they are shown.
export function resolveStyles(actor: Clutter.Actor): void {
  if (actor instanceof St.Widget) actor.ensure_style();
  for (const child of actor.get_children()) if (child.visible) resolveStyles(child);
}

// A vertical list of rows keyed by `row.key`: a render creates rows that are new, updates the
// others in place, removes the gone ones and restores the order; an empty list shows `empty`.
export class KeyedList<Row extends { key: string }> {
  readonly actor: St.BoxLayout;
  #box: St.BoxLayout;
  #empty: St.Label;
  #create: (row: Row) => RowWidget<Row>;
  #options: KeyedListOptions;
  #rows = new Map<string, RowWidget<Row>>();
  #header: St.Widget | null = null;
  #marked: ((key: string) => boolean) | null = null;
  /** The rows of the last render while some of them are still to build, else null. */
  #unbuilt: readonly Row[] | null = null;
  #passQueued = false;
  /** Whether collapse() hid the rows past those in sight. */
  #collapsed = false;

  constructor(styleClass: string, emptyText: string, create: (row: Row) => RowWidget<Row>, options: KeyedListOptions = {}) {
    this.actor = verticalBox({ style_class: "selfheal-list", x_expand: true });
    this.#box = verticalBox({ style_class: styleClass, x_expand: true });
    this.#empty = new St.Label({ text: emptyText, style_class: "selfheal-empty" });
    this.#empty.clutter_text.line_wrap = true;
    this.actor.add_child(this.#box);
    this.actor.add_child(this.#empty);
    this.#create = create;
    this.#options = options;
  }

  // Column titles shown only while there are rows to title.
  setHeader(header: St.Widget): void {
    this.#header = header;
    header.visible = this.#rows.size > 0;
  }

  get size(): number {
    return this.#rows.size;
  }

  // Marks the rows whose key passes `match` (null: none), now and in later renders; returns the
  // first marked row on show, if any (built now if it was still to come).
  mark(match: ((key: string) => boolean) | null): St.Widget | null {
    this.#marked = match;
    if (match !== null) this.#expand();
    if (match !== null && this.#unbuilt?.some((row) => !this.#rows.has(row.key) && match(row.key))) this.#build(this.#unbuilt, Infinity);
    let first: St.Widget | null = null;
    for (const child of this.#box.get_children()) {
      const key = this.#keyOf(child);
      const marked = key !== null && match !== null && match(key);
      setFlag(child as St.Widget, MARKED_ROW_CLASS, marked);
      if (marked && first === null) first = child as St.Widget;
    }
    return first;
  }

  #keyOf(actor: unknown): string | null {
    for (const [key, widget] of this.#rows) if (widget.actor === actor) return key;
    return null;
  }

  render(rows: readonly Row[]): void {
    const byFrames = this.#options.afterNextFrame !== undefined;
    const built = byFrames ? rows.reduce((n, row) => n + (this.#rows.has(row.key) ? 1 : 0), 0) : 0;
    this.#renderUpTo(rows, byFrames ? Math.max(0, ROWS_PER_FRAME - built) : Infinity);
  }

  // While the list is on show, shows the rows collapse() hid and builds the rows still to come,
  // ROWS_PER_FRAME, after each frame.
  resume(): void {
    const { afterNextFrame } = this.#options;
    if ((this.#unbuilt === null && !this.#collapsed) || this.#passQueued || !afterNextFrame || !this.actor.is_mapped()) return;
    this.#passQueued = true;
    afterNextFrame(() => {
      this.#passQueued = false;
      if (!this.actor.is_mapped()) return;
      this.#expand();
      if (this.#unbuilt !== null) this.#renderUpTo(this.#unbuilt, ROWS_PER_FRAME);
      else this.resume();
    });
  }

  // Hides the rows past those in sight (the list out of sight, with the menu closed), so that the
  // next open shows and lays out only those before its first frame; resume() shows the others
  // after it.
  collapse(): void {
    if (!this.#options.afterNextFrame || this.actor.is_mapped()) return;
    this.#box.get_children().forEach((child, index) => {
      if (index >= ROWS_PER_FRAME) child.visible = false;
    });
    this.#collapsed = true;
  }

  #expand(): void {
    if (!this.#collapsed) return;
    this.#collapsed = false;
    for (const child of this.#box.get_children()) child.visible = true;
  }

  #renderUpTo(rows: readonly Row[], limit: number): void {
    this.#build(rows, limit);
    this.#empty.visible = rows.length === 0;
    if (this.#header) this.#header.visible = rows.length > 0;
    this.resume();
  }

  // Places `rows`, creating at most `limit` new ones; the rest wait in #unbuilt.
  #build(rows: readonly Row[], limit: number): void {
    // Many new rows in an empty list go into the box while it is out of the stage: one style and
    // layout pass for all of them instead of one per row. (Rows already on show stay: taking
    // them out of the stage would have their style looked up again.)
    const fresh = Math.min(limit, rows.reduce((n, row) => n + (this.#rows.has(row.key) ? 0 : 1), 0));
    const detach = fresh >= BATCH_DETACH_ROWS && this.#rows.size === 0;
    if (detach) this.actor.remove_child(this.#box);
    const complete = this.#place(rows, limit);
    if (detach) this.actor.insert_child_at_index(this.#box, 0);
    this.#unbuilt = complete ? null : rows;
    if (fresh > 0) this.#options.onRowsBuilt?.();
  }

  // Updates and orders the rows built, creates new ones up to `limit`; false if some are left.
  #place(rows: readonly Row[], limit: number): boolean {
    const keep = new Set(rows.map((row) => row.key));
    for (const [key, widget] of this.#rows) {
      if (keep.has(key)) continue;
      widget.actor.destroy();
      this.#rows.delete(key);
    }
    let index = 0;
    let created = 0;
    for (const row of rows) {
      let widget = this.#rows.get(row.key);
      if (!widget) {
        if (created >= limit) continue;
        created++;
        widget = this.#create(row);
        this.#rows.set(row.key, widget);
        if (this.#marked?.(row.key)) widget.actor.add_style_class_name(MARKED_ROW_CLASS);
        this.#box.insert_child_at_index(widget.actor, index);
      } else {
        widget.update(row);
        if (this.#box.get_child_at_index(index) !== widget.actor) this.#box.set_child_at_index(widget.actor, index);
      }
      index++;
    }
    return index === rows.length;
  }
}

// The table of a list view: column titles over a keyed list, the titles shown only with rows.
// Each column is [title, column name]; the name gives the title its `selfheal-col-*` class.
export function columnTable<Row extends { key: string }>(
  listClass: string,
  emptyText: string,
  columns: ReadonlyArray<readonly [string, string]>,
  create: (row: Row) => RowWidget<Row>,
  options: KeyedListOptions = {},
): { header: St.BoxLayout; list: KeyedList<Row> } {
  const header = new St.BoxLayout({ style_class: "selfheal-row selfheal-column-titles" });
  for (const [title, column] of columns) header.add_child(cell(title, `selfheal-col-${column}`));
  const list = new KeyedList(listClass, emptyText, create, options);
  list.setHeader(header);
  return { header, list };
}
