// Tell the daemon when config.toml changes. The directory is watched, not the
// file: editors save by writing a new file and renaming it over the old one,
// which a watch on the old file's inode would never see.
import type { FSWatcher } from "node:fs";

import { existsSync, mkdirSync, watch } from "node:fs";
import { basename, dirname } from "node:path";

/** Quiet time after the last change before `onChange` runs; an editor's save is several events. */
export const WATCH_DEBOUNCE_MS = 100;
/** Wait before watching again after the directory vanished or the watch failed. */
export const WATCH_RETRY_MS = 1000;

export interface WatchOptions {
  debounceMs?: number;
  retryMs?: number;
}

export interface ConfigWatcher {
  close(): void;
}

// Call `onChange` (debounced) whenever the file at `path` is written, replaced, created or deleted.
export function watchConfig(path: string, onChange: () => void, options: WatchOptions = {}): ConfigWatcher {
  const dir = dirname(path);
  const name = basename(path);
  const debounceMs = options.debounceMs ?? WATCH_DEBOUNCE_MS;
  const retryMs = options.retryMs ?? WATCH_RETRY_MS;
  let watcher: FSWatcher | null = null;
  let debounce: NodeJS.Timeout | null = null;
  let retry: NodeJS.Timeout | null = null;
  let closed = false;

  // Run onChange once things have been quiet for debounceMs.
  const changed = () => {
    if (debounce) clearTimeout(debounce);
    debounce = setTimeout(() => {
      debounce = null;
      if (closed) return;
      if (!existsSync(dir)) rearmLater();
      onChange();
    }, debounceMs);
  };

  // Drop the current watch and try again shortly (the directory was removed, or watching failed).
  const rearmLater = () => {
    watcher?.close();
    watcher = null;
    if (closed || retry) return;
    retry = setTimeout(() => {
      retry = null;
      arm();
      changed();
    }, retryMs);
    retry.unref();
  };

  // Create the directory if needed and watch it for events about our file.
  const arm = () => {
    if (closed) return;
    try {
      mkdirSync(dir, { recursive: true });
      watcher = watch(dir, { persistent: false }, (_event, filename) => {
        if (!existsSync(dir)) rearmLater();
        else if (filename === null || filename === name) changed();
      });
      watcher.on("error", rearmLater);
    } catch {
      rearmLater();
    }
  };

  arm();
  return {
    close() {
      closed = true;
      watcher?.close();
      if (debounce) clearTimeout(debounce);
      if (retry) clearTimeout(retry);
    },
  };
}
