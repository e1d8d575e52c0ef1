// Types for the parts of dbus-next that dbus.ts imports directly (the package
// types only its index). The classes are the ones its index re-exports.
declare module "dbus-next/lib/bus.js" {
  import type { MessageBus } from "dbus-next";
  const MessageBusClass: new (connection: unknown) => MessageBus;
  export default MessageBusClass;
}

declare module "dbus-next/lib/variant.js" {
  import type { Variant } from "dbus-next";
  const variant: { Variant: typeof Variant };
  export default variant;
}

declare module "dbus-next/lib/message-type.js" {
  import type { Message } from "dbus-next";
  const messageType: { Message: typeof Message };
  export default messageType;
}

declare module "dbus-next/lib/errors.js" {
  import type { DBusError } from "dbus-next";
  const errors: { DBusError: typeof DBusError };
  export default errors;
}

declare module "dbus-next/lib/handshake.js" {
  import type { Duplex } from "node:stream";
  const auth: (stream: Duplex, options: { authMethods?: string[] }, done: (error: unknown, guid?: string) => void) => void;
  export default auth;
}

declare module "dbus-next/lib/message.js" {
  import type { Readable } from "node:stream";
  const message: {
    unmarshalMessages(stream: Readable, onMessage: (message: unknown) => void, options: object): void;
  };
  export default message;
}

declare module "dbus-next/lib/signature.js" {
  namespace signatures {
    /** One complete type of a signature, as a tree. */
    interface SignatureTree {
      type: string;
      child: SignatureTree[];
    }
  }
  const signatures: {
    parseSignature(signature: string): signatures.SignatureTree[];
    collapseSignature(tree: signatures.SignatureTree): string;
  };
  export default signatures;
}

declare module "dbus-next/lib/marshall-compat.js" {
  const compat: {
    messageToJsFmt(message: unknown): object;
    marshallMessage(message: unknown): [Buffer, unknown[]];
  };
  export default compat;
}
