// The extension's entry point: builds the indicator in enable() and destroys all of it in disable().
import { Extension, Gio, Main, PanelMenu, St } from "./gi/ext.js";

export default class SelfHealExtension extends Extension {
  #button: PanelMenu.Button | null = null;

  override enable(): void {
    const button = new PanelMenu.Button(0.5, this.gettext("SelfHeal"), false);
    const icon = new St.Icon({
      gicon: Gio.icon_new_for_string(`${this.path}/icons/selfheal-ok-symbolic.svg`),
      style_class: "system-status-icon",
    });
    button.add_child(icon);
    Main.panel.addToStatusArea(this.uuid, button);
    this.#button = button;
  }

  override disable(): void {
    this.#button?.destroy();
    this.#button = null;
  }
}
