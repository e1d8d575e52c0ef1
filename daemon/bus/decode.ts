// Decoding incoming D-Bus message bodies from dbus-next's wire reader into
// plain values (Variants, arrays, dicts), as dbus-next's own converter does,
// but with dicts that have no prototype: a caller's key "__proto__" is then an
// ordinary key that validation refuses by name, where a plain object would
// drop it without a trace (or take it for its prototype).
import signatures from "dbus-next/lib/signature.js";
import variantModule from "dbus-next/lib/variant.js";

const { Variant } = variantModule;

type SignatureTree = signatures.SignatureTree;

/** A message as dbus-next's reader gives it: the body still in the reader's [types, values] form. */
interface RawMessage {
  signature?: string;
  body?: unknown[];
}

// The reader's form of a variant: [[type tree], [value]].
function isReaderVariant(value: unknown): value is [[SignatureTree], [unknown]] {
  if (!Array.isArray(value) || value.length !== 2 || !Array.isArray(value[0]) || value[0].length === 0) return false;
  const type: unknown = value[0][0];
  return type !== null && typeof type === "object" && "type" in type;
}

// One value of type `tree` from the reader's form into plain values.
function toJs(tree: SignatureTree, value: unknown): unknown {
  if (tree.child.length === 0) {
    if (tree.type === "v" && isReaderVariant(value)) {
      const [[inner], [innerValue]] = value;
      return new Variant(signatures.collapseSignature(inner), toJs(inner, innerValue));
    }
    return value;
  }
  if (tree.type === "a") {
    const element = tree.child[0]!;
    if (element.type === "y") return value; // a Buffer already
    const items = value as unknown[];
    if (element.type === "{") {
      const dict = Object.create(null) as Record<string, unknown>;
      for (const [key, inner] of items as Array<[string, unknown]>) dict[key] = toJs(element.child[1]!, inner);
      return dict;
    }
    return items.map((item) => toJs(element, item));
  }
  if (tree.type === "(") return (value as unknown[]).map((item, index) => toJs(tree.child[index]!, item));
  return value;
}

// Turn a message's body into plain values in place (what dbus-next's messageToJsFmt does), returning the message.
export function decodeMessageBody<M extends RawMessage>(message: M): M {
  const trees = signatures.parseSignature(message.signature ?? "");
  const body = message.body ?? [];
  message.body = trees.map((tree, index) => toJs(tree, body[index]));
  return message;
}
