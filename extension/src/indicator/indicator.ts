// The top-bar button: a symbolic icon whose shape and colour tell the health at a glance, a small
// count of programs in trouble, and optionally the watched programs' CPU.

import type { Gio } from "../gi/ext.js";
import { Clutter, Gio as GioLib, PanelMenu, St } from "../gi/ext.js";
import type { IndicatorState, Level } from "../model/health.js";
import { setOneClass, setText } from "../menu/widgets.js";

const LEVEL_CLASSES: readonly string[] = ["selfheal-level-ok", "selfheal-level-degraded", "selfheal-level-critical", "selfheal-level-offline"];
const levelClass = (level: Level): string => `selfheal-level-${level}`;

export class Indicator {
  readonly button: PanelMenu.Button;
  #extensionPath: string;
  #icon: St.Icon;
  #count: St.Label;
  #cpu: St.Label;
  #icons = new Map<string, Gio.Icon>();
  #iconName = "";

  constructor(extensionPath: string, accessibleName: string) {
    this.#extensionPath = extensionPath;
    this.button = new PanelMenu.Button(0.5, accessibleName, false);
    this.button.add_style_class_name("selfheal-indicator");
    const box = new St.BoxLayout({ style_class: "panel-status-indicators-box selfheal-indicator-box" });
    this.#icon = new St.Icon({ style_class: "system-status-icon selfheal-indicator-icon" });
    this.#count = new St.Label({ style_class: "selfheal-indicator-count", y_align: Clutter.ActorAlign.CENTER, visible: false });
    this.#cpu = new St.Label({ style_class: "selfheal-indicator-cpu", y_align: Clutter.ActorAlign.CENTER, visible: false });
    box.add_child(this.#icon);
    box.add_child(this.#count);
    box.add_child(this.#cpu);
    this.button.add_child(box);
  }

  #gicon(name: string): Gio.Icon {
    let icon = this.#icons.get(name);
    if (!icon) {
      icon = GioLib.icon_new_for_string(`${this.#extensionPath}/icons/${name}.svg`);
      this.#icons.set(name, icon);
    }
    return icon;
  }

  // Shows a state; parts that did not change are left alone.
  show(state: IndicatorState): void {
    if (state.iconName !== this.#iconName) {
      this.#iconName = state.iconName;
      this.#icon.gicon = this.#gicon(state.iconName);
    }
    setOneClass(this.button, LEVEL_CLASSES, levelClass(state.level));
    setText(this.#count, state.countText);
    this.#count.visible = state.countText !== "";
    setText(this.#cpu, state.cpuText);
    this.#cpu.visible = state.cpuText !== "";
    if (this.button.accessible_name !== state.summary) this.button.accessible_name = state.summary;
  }

  destroy(): void {
    this.button.destroy();
    this.#icons.clear();
  }
}
