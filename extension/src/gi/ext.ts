// Everything the extension needs from the shell process: St, Clutter, the shell's UI modules
// and the Extension base class. Version differences between GNOME 42 and 48 live here (the
// table in docs/gnome-versions.md lists them).
import Clutter from "gi://Clutter";
import St from "gi://St";
import Shell from "gi://Shell";
import * as Main from "resource:///org/gnome/shell/ui/main.js";
import * as PanelMenu from "resource:///org/gnome/shell/ui/panelMenu.js";
import * as PopupMenu from "resource:///org/gnome/shell/ui/popupMenu.js";
import { PopupAnimation } from "resource:///org/gnome/shell/ui/boxpointer.js";
import { Extension } from "resource:///org/gnome/shell/extensions/extension.js";

export { Gio, GLib, GObject } from "./core.js";
export { Clutter, St, Shell, Main, PanelMenu, PopupMenu, PopupAnimation, Extension };

// A vertical St.BoxLayout, said the way the running shell wants it: GNOME 48 gave St.BoxLayout an
// `orientation` and deprecated its `vertical`.
export function verticalBox(params: Partial<St.BoxLayout.ConstructorProps> = {}): St.BoxLayout {
  const hasOrientation = St.BoxLayout.find_property("orientation") !== null;
  const direction = hasOrientation ? { orientation: Clutter.Orientation.VERTICAL } : ({ vertical: true } as Partial<St.BoxLayout.ConstructorProps>);
  return new St.BoxLayout({ ...params, ...direction });
}

// Puts `child` in a scroll view: GNOME 46 dropped Clutter.Container (add_actor) for `child`.
export function setScrollChild(view: St.ScrollView, child: St.BoxLayout): void {
  const legacy = view as unknown as { add_actor?: (actor: Clutter.Actor) => void };
  if (typeof legacy.add_actor === "function") legacy.add_actor(child);
  else view.set_child(child);
}

// Scrolls `view` so that `actor`, somewhere in its child, is in sight (centred when it was not).
// GNOME 46 replaced the scroll bars' adjustments (`vscroll.adjustment`) by `vadjustment`. Both
// actors must be on show: their positions on the stage are compared.
export function scrollIntoView(view: St.ScrollView, actor: Clutter.Actor): void {
  const legacy = view as unknown as { vadjustment?: St.Adjustment; vscroll?: { adjustment: St.Adjustment } };
  const adjustment = legacy.vadjustment ?? legacy.vscroll?.adjustment;
  if (!adjustment) return;
  const [, actorY] = actor.get_transformed_position();
  const [, viewY] = view.get_transformed_position();
  const [, height] = actor.get_transformed_size();
  const top = actorY - viewY + adjustment.value;
  if (top >= adjustment.value && top + height <= adjustment.value + adjustment.page_size) return;
  const wanted = top - (adjustment.page_size - height) / 2;
  adjustment.value = Math.max(adjustment.lower, Math.min(wanted, adjustment.upper - adjustment.page_size));
}

// The stage's theme context: its "changed" (a new theme, another extension's stylesheet loaded
// or unloaded, a new colour scheme or text scale) restyles every widget on the stage.
export function themeContext(): St.ThemeContext {
  return St.ThemeContext.get_for_stage(global.stage as Clutter.Stage);
}

// The style the shell's PanelMenu.Button gives its menu's actor at every open (its
// _onOpenStateChanged, the same in GNOME 42 to 48): a max-height of the primary monitor's work
// area less the actor's margins, in logical pixels. The actor's margins come from its style.
export function panelMenuStyle(menuActor: St.Widget): string {
  const workArea = Main.layoutManager.getWorkAreaForMonitor(Main.layoutManager.primaryIndex);
  const scaleFactor = themeContext().scale_factor;
  const maxHeight = Math.round((workArea.height - menuActor.margin_top - menuActor.margin_bottom) / scaleFactor);
  return `max-height: ${maxHeight}px;`;
}

// The menu of a panel button, typed as the real PopupMenu it is when built with a menu.
export function menuOf(button: PanelMenu.Button): PopupMenu.PopupMenu {
  return button.menu as PopupMenu.PopupMenu;
}
