// What a failed call answers: the engine's errors become
// io.github.SelfHeal1.Error.<Name>, a rejected policy .InvalidPolicy with
// every problem, an unusable argument org.freedesktop.DBus.Error.InvalidArgs.
import { ConfigError } from "../config/load.js";
import { EngineError } from "../engine/errors.js";
import { ProtectedError } from "../safety/guard.js";
import { DBUS_ERRORS, ERROR_PREFIX } from "./names.js";
import { InvalidArgsError } from "./variants.js";

/** An error reply: its D-Bus name and the message for people. */
export interface ErrorReply {
  name: string;
  message: string;
}

/** The longest error message sent back; a caller's megabyte string is not echoed whole. */
export const MAX_ERROR_MESSAGE = 4096;

// Cut a message to MAX_ERROR_MESSAGE characters, saying so.
export function clampMessage(message: string): string {
  if (message.length <= MAX_ERROR_MESSAGE) return message;
  return `${message.slice(0, MAX_ERROR_MESSAGE)}… (${message.length - MAX_ERROR_MESSAGE} more characters)`;
}

// The reply for an error thrown while serving a call; `unexpected` is true for a bug (to be logged).
export function errorReply(error: unknown): ErrorReply & { unexpected: boolean } {
  if (error instanceof InvalidArgsError) return { name: DBUS_ERRORS.invalidArgs, message: clampMessage(error.message), unexpected: false };
  if (error instanceof EngineError) return { name: ERROR_PREFIX + error.errorName, message: clampMessage(error.message), unexpected: false };
  if (error instanceof ProtectedError) return { name: `${ERROR_PREFIX}Protected`, message: clampMessage(error.message), unexpected: false };
  if (error instanceof ConfigError) return { name: `${ERROR_PREFIX}InvalidPolicy`, message: clampMessage(error.message), unexpected: false };
  const message = error instanceof Error ? error.message : String(error);
  return { name: `${ERROR_PREFIX}Failed`, message: clampMessage(message || "the daemon failed to serve the call; see its log"), unexpected: true };
}
