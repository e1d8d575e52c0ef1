// Reads GLib.Variant.print(false)'s text back into plain values, as recursiveUnpack() would give
// them. A reply of 50 process records (some 900 values) unpacked value by value costs GJS about
// 20 ms on an idle machine and 30 to 90 ms on a busy one, on the shell's main loop, every refresh
// of an open menu; printed by GLib in one call and read here, under 2 ms. What the text holds that
// this does not read, or would read otherwise than recursiveUnpack() (bytes, which it gives as a
// Uint8Array; maybe types), throws, and the caller unpacks the Variant instead.

/** A value as recursiveUnpack() gives it. */
export type Unpacked = string | number | boolean | Unpacked[] | { [key: string]: Unpacked };

// GVariant's type keywords before a number (or a string, for objectpath and signature). Not
// "byte": see above.
const TYPE_WORDS = new Set(["int16", "uint16", "int32", "uint32", "int64", "uint64", "handle", "double", "objectpath", "signature"]);
const SIMPLE_ESCAPES: Record<string, string> = { a: "\x07", b: "\b", f: "\f", n: "\n", r: "\r", t: "\t", v: "\v" };

export class VariantTextError extends Error {}

// Parses the whole text; throws VariantTextError on anything it does not read.
export function parseVariantText(text: string): Unpacked {
  const reader = new Reader(text);
  const value = reader.value();
  reader.spaces();
  if (!reader.atEnd()) reader.fail("text after the value");
  return value;
}

class Reader {
  #text: string;
  #at = 0;

  constructor(text: string) {
    this.#text = text;
  }

  atEnd(): boolean {
    return this.#at >= this.#text.length;
  }

  fail(what: string): never {
    throw new VariantTextError(`${what} at ${this.#at} of the printed Variant`);
  }

  spaces(): void {
    while (this.#text[this.#at] === " ") this.#at++;
  }

  #expect(char: string): void {
    this.spaces();
    if (this.#text[this.#at] !== char) this.fail(`“${char}” expected`);
    this.#at++;
  }

  // Whether the next character (after spaces) is `char`; consumes it if so.
  #take(char: string): boolean {
    this.spaces();
    if (this.#text[this.#at] !== char) return false;
    this.#at++;
    return true;
  }

  value(): Unpacked {
    this.spaces();
    const char = this.#text[this.#at];
    switch (char) {
      case "(":
        return this.#sequence("(", ")");
      case "[":
        return this.#sequence("[", "]");
      case "{":
        return this.#dict();
      case "<": {
        this.#at++;
        const inner = this.value();
        this.#expect(">");
        return inner;
      }
      case "'":
      case '"':
        return this.#string();
      case "@":
      {
        // A type annotation (an empty array's, say): the value follows it.
        const start = this.#at;
        while (this.#at < this.#text.length && this.#text[this.#at] !== " ") this.#at++;
        if (this.#text.slice(start, this.#at).includes("ay")) this.fail("bytes");
        return this.value();
      }
      default:
        return this.#word();
    }
  }

  // A tuple or an array: values between `open` and `close`, separated by commas (a tuple of one
  // ends with a comma).
  #sequence(open: string, close: string): Unpacked[] {
    this.#expect(open);
    const items: Unpacked[] = [];
    if (this.#take(close)) return items;
    for (;;) {
      items.push(this.value());
      if (this.#take(close)) return items;
      this.#expect(",");
      if (this.#take(close)) return items;
    }
  }

  #dict(): { [key: string]: Unpacked } {
    this.#expect("{");
    const dict: { [key: string]: Unpacked } = {};
    if (this.#take("}")) return dict;
    for (;;) {
      const key = this.value();
      this.#expect(":");
      // defineProperty: a program may be named "__proto__".
      Object.defineProperty(dict, String(key), { value: this.value(), enumerable: true, writable: true, configurable: true });
      if (this.#take("}")) return dict;
      this.#expect(",");
    }
  }

  #string(): string {
    const quote = this.#text[this.#at++];
    let out = "";
    for (;;) {
      const char = this.#text[this.#at++];
      if (char === undefined) this.fail("unterminated string");
      if (char === quote) return out;
      if (char !== "\\") {
        out += char;
        continue;
      }
      const escaped = this.#text[this.#at++];
      if (escaped === undefined) this.fail("unterminated escape");
      if (escaped === "u" || escaped === "U") {
        const digits = escaped === "u" ? 4 : 8;
        const hex = this.#text.slice(this.#at, this.#at + digits);
        if (!/^[0-9a-fA-F]+$/.test(hex) || hex.length !== digits) this.fail("bad unicode escape");
        out += String.fromCodePoint(parseInt(hex, 16));
        this.#at += digits;
      } else {
        out += SIMPLE_ESCAPES[escaped] ?? escaped;
      }
    }
  }

  // true, false, a number (with its type keyword, if any), inf, nan, or a typed string.
  #word(): Unpacked {
    const start = this.#at;
    while (this.#at < this.#text.length && !" ,)]}>:".includes(this.#text[this.#at]!)) this.#at++;
    const word = this.#text.slice(start, this.#at);
    if (TYPE_WORDS.has(word)) return this.value();
    if (word === "true") return true;
    if (word === "false") return false;
    if (word === "inf") return Infinity;
    if (word === "-inf") return -Infinity;
    if (word === "nan") return NaN;
    if (/^-?0x[0-9a-fA-F]+$/.test(word)) return parseInt(word, 16);
    if (/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(word)) return Number(word);
    return this.fail(`unread word “${word}”`);
  }
}
