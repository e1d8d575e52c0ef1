// Owns the signal connections and main-loop sources of one object's lifetime, so that a single
// close() disconnects and removes all of them (the GNOME review rule for disable()).
import { GLib } from "../gi/core.js";

type Handler = (...args: never[]) => unknown;

/** A GObject, or a shell object with JavaScript signals (PopupMenu in GNOME 42–44). */
export interface SignalSource {
  connect(signal: string, handler: (...args: never[]) => unknown): number;
  disconnect(id: number): void;
}

export class Scope {
  #connections: Array<{ object: SignalSource; id: number }> = [];
  #sources = new Set<number>();

  // Connects `handler` to `signal` of `object` until close().
  connect(object: SignalSource, signal: string, handler: Handler): number {
    const id = object.connect(signal, handler);
    this.#connections.push({ object, id });
    return id;
  }

  // Runs `handler` on the next emission of `signal` only, unless close() comes first.
  once(object: SignalSource, signal: string, handler: () => void): void {
    const id = object.connect(signal, () => {
      object.disconnect(id);
      this.#connections = this.#connections.filter((connection) => connection.id !== id || connection.object !== object);
      handler();
    });
    this.#connections.push({ object, id });
  }

  // Runs `callback` once after `ms` milliseconds, unless close() or cancel() comes first.
  timeout(ms: number, callback: () => void): number {
    const id = GLib.timeout_add(GLib.PRIORITY_DEFAULT, ms, () => {
      this.#sources.delete(id);
      callback();
      return GLib.SOURCE_REMOVE;
    });
    this.#sources.add(id);
    return id;
  }

  // Runs `callback` every `ms` milliseconds until close() or cancel().
  interval(ms: number, callback: () => void): number {
    const id = GLib.timeout_add(GLib.PRIORITY_DEFAULT, ms, () => {
      callback();
      return GLib.SOURCE_CONTINUE;
    });
    this.#sources.add(id);
    return id;
  }

  // Runs `callback` once when the main loop has nothing of a higher priority than `priority` to
  // do, unless close() or cancel() comes first.
  idle(priority: number, callback: () => void): number {
    const id = GLib.idle_add(priority, () => {
      this.#sources.delete(id);
      callback();
      return GLib.SOURCE_REMOVE;
    });
    this.#sources.add(id);
    return id;
  }

  // Removes one source made by timeout(), interval() or idle(); 0 and unknown ids are ignored.
  cancel(id: number): void {
    if (!this.#sources.delete(id)) return;
    GLib.source_remove(id);
  }

  close(): void {
    for (const { object, id } of this.#connections) object.disconnect(id);
    this.#connections = [];
    for (const id of this.#sources) GLib.source_remove(id);
    this.#sources.clear();
  }
}
