// Encoding outgoing D-Bus messages (little-endian wire format, D-Bus
// specification "Message Protocol"), from the values dbus-next's Message
// holds: Variants, plain objects for dicts, arrays, bigints for 64-bit
// integers, Buffers for ay. dbus-next's own encoder builds a list of small
// buffers per value and takes about a millisecond for a 50-record
// ListProcesses reply; this one writes into one growing buffer.
import variantModule from "dbus-next/lib/variant.js";

const { Variant } = variantModule;

/** One complete type of a signature, as a tree. */
export interface TypeNode {
  type: string;
  children: TypeNode[];
}

const BASIC_TYPES = new Set(["y", "b", "n", "q", "i", "u", "x", "t", "d", "h", "s", "o", "g"]);
const ALIGNMENT: Record<string, number> = { y: 1, b: 4, n: 2, q: 2, i: 4, u: 4, x: 8, t: 8, d: 8, h: 4, s: 4, o: 4, g: 1, a: 4, "(": 8, "{": 8, v: 1 };
const INTEGER_RANGES: Record<string, [number, number]> = { y: [0, 0xff], n: [-0x8000, 0x7fff], q: [0, 0xffff], i: [-0x8000_0000, 0x7fff_ffff], u: [0, 0xffff_ffff] };
const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
const UINT64_MAX = 2n ** 64n - 1n;
const MAX_SIGNATURE_LENGTH = 255;
const INITIAL_BUFFER_BYTES = 1024;
/** A writer's buffer is kept for the next message up to this size; a larger one was for a rare large message. */
const RETAINED_BUFFER_BYTES = 256 * 1024;
const signatureCache = new Map<string, TypeNode[]>();
/** Strings up to this length are written byte by byte when they are ASCII; longer ones by Buffer.write. */
const SHORT_STRING = 64;
/** Signatures parsed once and kept; callers' signatures are few and fixed. */
const SIGNATURE_CACHE_LIMIT = 1024;

// Parse one complete type starting at `at`; returns it and where the next one starts.
function parseOne(signature: string, at: number): [TypeNode, number] {
  const type = signature[at];
  if (type === undefined) throw new Error(`signature "${signature}" ends too early`);
  if (BASIC_TYPES.has(type) || type === "v") return [{ type, children: [] }, at + 1];
  if (type === "a") {
    const [element, next] = parseOne(signature, at + 1);
    return [{ type, children: [element] }, next];
  }
  if (type === "(" || type === "{") {
    const close = type === "(" ? ")" : "}";
    const children: TypeNode[] = [];
    let next = at + 1;
    while (signature[next] !== close) {
      const [child, after] = parseOne(signature, next);
      children.push(child);
      next = after;
    }
    if (children.length === 0 || (type === "{" && (children.length !== 2 || !BASIC_TYPES.has(children[0]!.type)))) {
      throw new Error(`signature "${signature}" has an invalid ${type === "(" ? "struct" : "dict entry"}`);
    }
    return [{ type, children }, next + 1];
  }
  throw new Error(`signature "${signature}" has an unknown type code "${type}"`);
}

// A signature as its list of complete types.
export function parseSignature(signature: string): TypeNode[] {
  const cached = signatureCache.get(signature);
  if (cached) return cached;
  if (signature.length > MAX_SIGNATURE_LENGTH) throw new Error(`signature is ${signature.length} characters long; D-Bus allows ${MAX_SIGNATURE_LENGTH}`);
  const types: TypeNode[] = [];
  for (let at = 0; at < signature.length; ) {
    const [node, next] = parseOne(signature, at);
    types.push(node);
    at = next;
  }
  if (signatureCache.size < SIGNATURE_CACHE_LIMIT) signatureCache.set(signature, types);
  return types;
}

/**
 * A buffer that grows as values are written, aligned as the wire format wants.
 * One body writer and one header writer serve every message (encoding is
 * synchronous): a message then costs one allocation, its final copy, rather
 * than a growing buffer and one small Buffer per number, which the garbage
 * collector frees late and which made the daemon's memory grow under bursts of calls.
 * Numbers go through a DataView and short ASCII strings byte by byte: Buffer's
 * own write methods check their arguments and cross into C++ on each call,
 * which was most of a 50-record ListProcesses reply's cost.
 */
class Writer {
  buffer: Buffer = Buffer.alloc(INITIAL_BUFFER_BYTES);
  view: DataView = new DataView(this.buffer.buffer, this.buffer.byteOffset, this.buffer.length);
  offset = 0;

  // Start a new message; a buffer grown for an unusually large one is let go.
  reset(): void {
    if (this.buffer.length > RETAINED_BUFFER_BYTES) this.replace(Buffer.alloc(INITIAL_BUFFER_BYTES));
    this.offset = 0;
  }

  private replace(buffer: Buffer): void {
    this.buffer = buffer;
    this.view = new DataView(buffer.buffer, buffer.byteOffset, buffer.length);
  }

  ensure(bytes: number): void {
    if (this.offset + bytes <= this.buffer.length) return;
    const next = Buffer.alloc(Math.max(this.buffer.length * 2, this.offset + bytes));
    this.buffer.copy(next, 0, 0, this.offset);
    this.replace(next);
  }

  align(boundary: number): void {
    this.ensure(boundary);
    // The buffer is reused: padding must be written as zeros.
    while (this.offset % boundary !== 0) this.buffer[this.offset++] = 0;
  }

  u8(value: number): void {
    this.ensure(1);
    this.buffer[this.offset++] = value;
  }

  u32(value: number): void {
    this.align(4);
    this.ensure(4);
    this.view.setUint32(this.offset, value, true);
    this.offset += 4;
  }

  i32(value: number): void {
    this.align(4);
    this.ensure(4);
    this.view.setInt32(this.offset, value, true);
    this.offset += 4;
  }

  u16(value: number, signed: boolean): void {
    this.align(2);
    this.ensure(2);
    if (signed) this.view.setInt16(this.offset, value, true);
    else this.view.setUint16(this.offset, value, true);
    this.offset += 2;
  }

  u64(value: bigint, signed: boolean): void {
    this.align(8);
    this.ensure(8);
    if (signed) this.view.setBigInt64(this.offset, value, true);
    else this.view.setBigUint64(this.offset, value, true);
    this.offset += 8;
  }

  f64(value: number): void {
    this.align(8);
    this.ensure(8);
    this.view.setFloat64(this.offset, value, true);
    this.offset += 8;
  }

  bytes(data: Buffer): void {
    this.ensure(data.length);
    data.copy(this.buffer, this.offset);
    this.offset += data.length;
  }

  // A string's bytes and its NUL at `at` (room ensured); returns its byte length, or -1 if it is not short ASCII.
  private ascii(value: string, at: number): number {
    if (value.length > SHORT_STRING) return -1;
    for (let index = 0; index < value.length; index++) {
      const code = value.charCodeAt(index);
      if (code >= 0x80) return -1;
      if (code === 0) throw new Error("a D-Bus string cannot contain a NUL character");
      this.buffer[at + index] = code;
    }
    this.buffer[at + value.length] = 0;
    return value.length;
  }

  // A string (s, o): length, UTF-8 bytes, NUL.
  string(value: string): void {
    this.align(4);
    this.ensure(4 + value.length + 1);
    let length = this.ascii(value, this.offset + 4);
    if (length < 0) {
      if (value.includes("\0")) throw new Error("a D-Bus string cannot contain a NUL character");
      length = Buffer.byteLength(value, "utf8");
      this.ensure(4 + length + 1);
      this.buffer.write(value, this.offset + 4, "utf8");
      this.buffer[this.offset + 4 + length] = 0;
    }
    this.view.setUint32(this.offset, length, true);
    this.offset += 4 + length + 1;
  }

  signature(value: string): void {
    if (value.length > MAX_SIGNATURE_LENGTH) throw new Error(`signature is longer than ${MAX_SIGNATURE_LENGTH} characters`);
    this.ensure(value.length + 2);
    this.buffer[this.offset] = value.length;
    if (this.ascii(value, this.offset + 1) < 0) throw new Error(`signature "${value.slice(0, 40)}" is not ASCII`);
    this.offset += value.length + 2;
  }

  // The bytes written so far: a view of the shared buffer, to be copied before the next message.
  written(): Buffer {
    return this.buffer.subarray(0, this.offset);
  }
}

function fail(type: string, value: unknown): never {
  const shown = typeof value === "string" ? JSON.stringify(value.slice(0, 40)) : String(value);
  throw new Error(`cannot encode ${shown} (${typeof value}) as D-Bus type "${type}"`);
}

// A 64-bit integer from a bigint or a safe integer, range-checked.
function int64(type: "x" | "t", value: unknown): bigint {
  const big = typeof value === "bigint" ? value : typeof value === "number" && Number.isSafeInteger(value) ? BigInt(value) : fail(type, value);
  if (type === "x" ? big < INT64_MIN || big > INT64_MAX : big < 0n || big > UINT64_MAX) fail(type, value);
  return big;
}

// A dict key from an object's string key, as its basic type.
function dictKey(type: string, key: string): unknown {
  if (type === "s" || type === "o" || type === "g") return key;
  if (type === "x" || type === "t") return BigInt(key);
  if (type === "b") return key === "true";
  return Number(key);
}

function writeBasic(writer: Writer, type: string, value: unknown): void {
  switch (type) {
    case "y":
    case "n":
    case "q":
    case "i":
    case "u": {
      const [min, max] = INTEGER_RANGES[type]!;
      if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max) fail(type, value);
      if (type === "y") writer.u8(value);
      else if (type === "u") writer.u32(value);
      else if (type === "i") writer.i32(value);
      else writer.u16(value, type === "n");
      return;
    }
    case "b":
      if (value !== true && value !== false && value !== 0 && value !== 1) fail(type, value);
      writer.u32(value === true || value === 1 ? 1 : 0);
      return;
    case "x":
    case "t":
      writer.u64(int64(type, value), type === "x");
      return;
    case "d":
      if (typeof value !== "number") fail(type, value);
      writer.f64(value);
      return;
    case "s":
    case "o":
      if (typeof value !== "string") fail(type, value);
      writer.string(value);
      return;
    case "g":
      if (typeof value !== "string") fail(type, value);
      parseSignature(value);
      writer.signature(value);
      return;
    default:
      fail(type, value);
  }
}

// A variant's one complete type, parsed once per signature.
function variantType(signature: string): TypeNode {
  const types = parseSignature(signature);
  if (types.length !== 1) throw new Error(`a variant holds one complete type, got "${signature}"`);
  return types[0]!;
}

// Write one value of the given type.
function writeValue(writer: Writer, node: TypeNode, value: unknown): void {
  switch (node.type) {
    case "v": {
      if (!(value instanceof Variant)) fail("v", value);
      const inner = variantType(value.signature);
      writer.signature(value.signature);
      writeValue(writer, inner, value.value);
      return;
    }
    case "a":
      writeArray(writer, node.children[0]!, value);
      return;
    case "(": {
      if (!Array.isArray(value) || value.length !== node.children.length) fail("(...)", value);
      writer.align(8);
      node.children.forEach((child, index) => writeValue(writer, child, value[index]));
      return;
    }
    default:
      writeBasic(writer, node.type, value);
  }
}

// One dict entry: aligned to 8, its key, its value.
function writeEntry(writer: Writer, entry: TypeNode, key: unknown, value: unknown): void {
  writer.align(8);
  writeBasic(writer, entry.children[0]!.type, key);
  writeValue(writer, entry.children[1]!, value);
}

// An array: its byte length, padding to the elements' alignment, the elements.
function writeArray(writer: Writer, element: TypeNode, value: unknown): void {
  writer.u32(0);
  const lengthAt = writer.offset - 4;
  writer.align(ALIGNMENT[element.type] ?? 1);
  const start = writer.offset;
  if (element.type === "{") {
    const keyType = element.children[0]!.type;
    if (value instanceof Map) {
      for (const [key, inner] of value) writeEntry(writer, element, key, inner);
    } else if (value !== null && typeof value === "object" && !Array.isArray(value)) {
      const dict = value as Record<string, unknown>;
      for (const key of Object.keys(dict)) writeEntry(writer, element, dictKey(keyType, key), dict[key]);
    } else {
      fail("a{..}", value);
    }
  } else if (element.type === "y" && Buffer.isBuffer(value)) {
    writer.bytes(value);
  } else {
    if (!Array.isArray(value)) fail(`a${element.type}`, value);
    for (const item of value) writeValue(writer, element, item);
  }
  writer.view.setUint32(lengthAt, writer.offset - start, true);
}

/** The fields of a message, as dbus-next's Message has them. */
export interface OutgoingMessage {
  type?: number;
  flags?: number;
  serial: number | null;
  path?: string;
  interface?: string;
  member?: string;
  errorName?: string;
  replySerial?: number | string;
  destination?: string;
  sender?: string;
  signature?: string;
  body?: unknown[];
}

/** Header field codes and their types (D-Bus specification, "Header Fields"). */
const HEADER_FIELDS: Array<[keyof OutgoingMessage, number, string]> = [
  ["path", 1, "o"],
  ["interface", 2, "s"],
  ["member", 3, "s"],
  ["errorName", 4, "s"],
  ["replySerial", 5, "u"],
  ["destination", 6, "s"],
  ["sender", 7, "s"],
  ["signature", 8, "g"],
];
const LITTLE_ENDIAN = "l".charCodeAt(0);
const PROTOCOL_VERSION = 1;
const METHOD_CALL = 1;

const bodyWriter = new Writer();
const headerWriter = new Writer();

// One whole message, header and body, ready for the socket (a buffer of its own).
export function encodeMessage(message: OutgoingMessage): Buffer {
  if (!message.serial) throw new Error("a message needs a serial");
  const body = bodyWriter;
  body.reset();
  const signature = message.signature ?? "";
  const types = parseSignature(signature);
  const values = message.body ?? [];
  if (types.length !== values.length) throw new Error(`the body has ${values.length} values for signature "${signature}"`);
  types.forEach((node, index) => writeValue(body, node, values[index]));

  const header = headerWriter;
  header.reset();
  header.u8(LITTLE_ENDIAN);
  header.u8(message.type || METHOD_CALL);
  header.u8(message.flags ?? 0);
  header.u8(PROTOCOL_VERSION);
  header.u32(body.offset);
  header.u32(message.serial);
  header.u32(0);
  const lengthAt = header.offset - 4;
  header.align(8);
  const start = header.offset;
  for (const [key, code, type] of HEADER_FIELDS) {
    const value = key === "replySerial" && message.replySerial !== undefined ? Number(message.replySerial) : message[key];
    if (value === undefined || value === null || value === "" || value === 0) continue;
    header.align(8);
    header.u8(code);
    header.signature(type);
    writeBasic(header, type, value);
  }
  header.view.setUint32(lengthAt, header.offset - start, true);
  header.align(8);
  return Buffer.concat([header.written(), body.written()]);
}
