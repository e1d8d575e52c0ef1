// The one module that imports dbus-next (with wire.ts, our encoder, and
// decode.ts, our body converter). It takes
// the library's parts directly rather than its index, whose X11 bus-address
// lookup (require("x11")) cannot be bundled, and makes the connection itself:
// unix sockets (path or abstract) and tcp, with the library's handshake and
// reader, decode.ts's conversion of message bodies (dicts without a prototype),
// and wire.ts's encoder (several times faster than the library's).
import { EventEmitter } from "node:events";
import { createConnection as netConnect, type Socket } from "node:net";
import type { MessageBus as MessageBusType } from "dbus-next";
import MessageBusClass from "dbus-next/lib/bus.js";
import variantModule from "dbus-next/lib/variant.js";
import messageModule from "dbus-next/lib/message-type.js";
import errorsModule from "dbus-next/lib/errors.js";
import handshake from "dbus-next/lib/handshake.js";
import codec from "dbus-next/lib/message.js";
import { decodeMessageBody } from "./decode.js";
import { encodeMessage, type OutgoingMessage } from "./wire.js";

export type MessageBus = MessageBusType;
export const Variant = variantModule.Variant;
export type Variant = InstanceType<typeof Variant>;
export const Message = messageModule.Message;
export type Message = InstanceType<typeof Message>;
export const DBusError = errorsModule.DBusError;
export type DBusError = InstanceType<typeof DBusError>;

/** D-Bus message types and flags (the values of the wire protocol). */
export const MESSAGE_TYPE = { methodCall: 1, methodReturn: 2, error: 3, signal: 4 } as const;
export const MESSAGE_FLAG = { noReplyExpected: 1, noAutoStart: 2 } as const;

/** The transport dbus-next's MessageBus drives: messages in and out over one stream. */
export interface Connection extends EventEmitter {
  stream: Socket;
  message(msg: unknown): void;
}

// Undo an address value's %XX escapes (a malformed escape is kept as written).
function unescapeValue(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}

// Split a D-Bus address ("unix:path=/tmp/x,guid=..;tcp:host=..") into its transports.
export function parseAddress(address: string): Array<{ transport: string; params: Record<string, string> }> {
  return address
    .split(";")
    .filter((part) => part.includes(":"))
    .map((part) => {
      const colon = part.indexOf(":");
      const params: Record<string, string> = {};
      for (const pair of part.slice(colon + 1).split(",")) {
        const eq = pair.indexOf("=");
        if (eq > 0) params[pair.slice(0, eq)] = unescapeValue(pair.slice(eq + 1));
      }
      return { transport: part.slice(0, colon), params };
    });
}

// Open a socket to the first transport of the address that we can use.
function openSocket(address: string): Socket {
  for (const { transport, params } of parseAddress(address)) {
    if (transport === "unix" && params.path) return netConnect(params.path);
    if (transport === "unix" && params.abstract) return netConnect(`\0${params.abstract}`);
    if (transport === "tcp" && params.port) return netConnect(Number(params.port), params.host ?? "localhost");
  }
  throw new Error(`no usable transport in the bus address ${JSON.stringify(address)} (unix:path=, unix:abstract= or tcp: are supported)`);
}

// A connection as dbus-next's own: buffer until authenticated, then one message at a time.
function createConnection(address: string): Connection {
  const connection = new EventEmitter() as Connection;
  const stream = openSocket(address);
  connection.stream = stream;
  stream.setNoDelay(true);
  const pending: unknown[] = [];
  connection.message = (msg) => void pending.push(msg);
  stream.on("error", (error) => connection.emit("error", error));
  stream.on("end", () => {
    connection.emit("end");
    connection.message = () => connection.emit("error", new Error("the bus connection is closed"));
  });
  stream.once("connect", () =>
    handshake(stream, {}, (error) => {
      if (error) return void connection.emit("error", error instanceof Error ? error : new Error(`authentication failed: ${String(error)}`));
      const write = (msg: unknown): void => {
        if (!stream.writable) throw new Error("cannot send: the bus connection is closed");
        stream.write(encodeMessage(msg as OutgoingMessage));
      };
      for (const msg of pending.splice(0)) write(msg);
      connection.message = write;
      connection.emit("connect");
      codec.unmarshalMessages(
        stream,
        (raw) => {
          let msg: Message;
          try {
            msg = new Message(decodeMessageBody(raw as { signature?: string; body?: unknown[] }));
          } catch (decodeError) {
            connection.emit("error", decodeError);
            return;
          }
          connection.emit("message", msg);
        },
        {},
      );
    }),
  );
  return connection;
}

/** A bus connection and the transport under it. */
export interface OpenedBus {
  bus: MessageBus;
  connection: Connection;
}

const connections = new WeakMap<MessageBus, Connection>();

// Open a MessageBus on the given address; it says hello by itself and emits "connect" when named.
export function openBus(address: string): OpenedBus {
  const connection = createConnection(address);
  const bus = new MessageBusClass(connection);
  connections.set(bus, connection);
  return { bus, connection };
}

// The transport under a bus opened here (to learn when it closes).
export function connectionOf(bus: MessageBus): Connection | undefined {
  return connections.get(bus);
}
