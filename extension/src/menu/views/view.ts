// What every view of the menu offers the menu, and what the menu offers every view.

import type { St } from "../../gi/ext.js";
import type { ManagerClient } from "../../dbus/manager.js";
import { errorMessage } from "../../dbus/manager.js";
import type { Translator } from "../../model/i18n.js";
import type { ViewId } from "../../model/views.js";
import { setSensitive } from "../widgets.js";

export interface ViewContext {
  t: Translator;
  /** The connected daemon's client, or null while the daemon is away. */
  client(): ManagerClient | null;
  /** Shows a line under the view: an action's outcome or error. */
  report(message: string, isError: boolean): void;
  /**
   * False once the menu is destroyed. A reply can arrive before disable() and its `await`
   * continue after it (GJS runs promise continuations from the main loop), so code after an
   * `await` checks this before it touches a widget.
   */
  live(): boolean;
  /** Runs `callback` once the stage has painted its next frame (nothing after the menu's end). */
  afterNextFrame(callback: () => void): void;
}

export interface View {
  readonly id: ViewId;
  /** Column titles above the scrolled rows, or null. */
  readonly header: St.Widget | null;
  /** The rows, placed in the menu's scroll view. */
  readonly content: St.BoxLayout;
  /** Buttons and results below the rows, or null. */
  readonly footer: St.Widget | null;
  /** Fetches the view's records from the daemon and renders them. */
  refresh(): Promise<void>;
  /** Fetches the records and builds what the next open shows first, while the menu is closed. */
  prefetch?(): Promise<void>;
  /**
   * The menu opened on this view: it resumes what waits to be on show; true if it shows records
   * already (fetched before), so that its refresh can wait for the first frame.
   */
  opened?(): boolean;
  /** The menu closed and is out of sight: the view may drop from the stage what waits for the next open. */
  closed?(): void;
  /**
   * Marks the rows of one program (a notification about it led here), or none for null; returns
   * the first marked row on show.
   */
  mark(name: string | null): St.Widget | null;
  /** Called every second while the view is shown, for countdowns. */
  tick(): void;
  destroy(): void;
}

// Fetches a view's records with the connected client: null when the daemon is away, or when the
// menu was destroyed while the reply was on its way.
export async function fetchWhileLive<T>(context: ViewContext, fetch: (client: ManagerClient) => Promise<T>): Promise<T | null> {
  const client = context.client();
  if (!client) return null;
  const records = await fetch(client);
  return context.live() ? records : null;
}

// Runs an action of a button: greys the button out meanwhile, reports a failure with the
// daemon's message, then refreshes the view.
export async function runAction(
  button: St.Button,
  context: ViewContext,
  failurePrefix: string,
  action: (client: ManagerClient) => Promise<unknown>,
  refresh: () => Promise<void>,
): Promise<void> {
  const client = context.client();
  if (!client) return;
  setSensitive(button, false);
  try {
    await action(client);
  } catch (error) {
    if (context.live()) context.report(`${failurePrefix}: ${errorMessage(error)}`, true);
  }
  if (!context.live()) return;
  setSensitive(button, true);
  await refresh();
}
