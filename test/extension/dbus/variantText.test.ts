// Reading GLib.Variant.print(false)'s text back: for every Variant here, GLib itself (gjs) prints it
// and unpacks it with recursiveUnpack(), and the text read back must be that same value.
import { execFileSync } from "node:child_process";
import { describe, expect, it } from "vitest";

import { parseVariantText, VariantTextError } from "../../../extension/src/dbus/variantText.js";

// Each entry: a type string and a GJS expression for the value (the script builds the Variant).
const CASES: Array<[string, string]> = [
  ["(aa{sv})", "[[]]"],
  ["(aa{sv})", "[[{}]]"],
  [
    "(aa{sv})",
    `[[{
      name: new GLib.Variant('s', 'sleeper-01'), pid: new GLib.Variant('u', 4242), state: new GLib.Variant('s', 'running'),
      cpu_percent: new GLib.Variant('d', 0.1), rss_bytes: new GLib.Variant('t', 12345678901), cpu_limit: new GLib.Variant('d', 50),
      restarts: new GLib.Variant('u', 0), managed: new GLib.Variant('b', true), exit: new GLib.Variant('i', -3), big: new GLib.Variant('x', -4),
      small: new GLib.Variant('n', -7), word: new GLib.Variant('q', 7), path: new GLib.Variant('o', '/a/b'),
      huge: new GLib.Variant('d', 1e300), tiny: new GLib.Variant('d', -2.5e-300), zero: new GLib.Variant('d', -0),
      inf: new GLib.Variant('d', Infinity), ninf: new GLib.Variant('d', -Infinity), nan: new GLib.Variant('d', NaN),
      nested: new GLib.Variant('a{sv}', { span: new GLib.Variant('d', 30), list: new GLib.Variant('as', ['x', 'y']) }),
      empty: new GLib.Variant('as', []), tuple: new GLib.Variant('(su)', ['one', 1]),
    }, { name: new GLib.Variant('s', '__proto__') }]]`,
  ],
  // Names and app names are anyone's text: quotes of both kinds, backslashes, control characters,
  // non-Latin letters and symbols beyond the Basic Multilingual Plane.
  ["(as)", `[["it's", 'say "hi"', "both ' and \\"", "back\\\\slash", "tab\\tnew\\nline\\r\\x07\\b\\f\\v", "\\u0001\\u001f\\u007f", "Grüße ☃ 日本 🎉", "", "a, b: <c> [d] {e} (f)"]]`],
  ["(a{sv})", `[{ 'key with spaces': new GLib.Variant('s', '>'), '': new GLib.Variant('u', 0) }]`],
];

// What gjs prints for each case: the text and recursiveUnpack()'s value, with the numbers JSON has
// no words for written out.
function printedByGlib(): Array<{ text: string; unpacked: string }> {
  const script = `
    const { GLib } = imports.gi;
    const special = (key, value) => (typeof value === 'number' && (!Number.isFinite(value) || Object.is(value, -0)) ? 'number:' + (Object.is(value, -0) ? '-0' : String(value)) : value);
    const out = [${CASES.map(([type, value]) => `new GLib.Variant(${JSON.stringify(type)}, ${value})`).join(", ")}].map((variant) => ({ text: variant.print(false), unpacked: JSON.stringify(variant.recursiveUnpack(), special) }));
    print(JSON.stringify(out));
  `;
  return JSON.parse(execFileSync("gjs", ["-c", script], { encoding: "utf8" })) as Array<{ text: string; unpacked: string }>;
}

const special = (_key: string, value: unknown): unknown =>
  typeof value === "number" && (!Number.isFinite(value) || Object.is(value, -0)) ? `number:${Object.is(value, -0) ? "-0" : String(value)}` : value;

describe("parseVariantText", () => {
  it("reads back what GLib prints as recursiveUnpack() unpacks it", () => {
    const printed = printedByGlib();
    expect(printed).toHaveLength(CASES.length);
    for (const { text, unpacked } of printed) expect(JSON.stringify(parseVariantText(text), special), text).toBe(unpacked);
  });

  it("keeps a key named __proto__ as a key", () => {
    const dict = parseVariantText("{'__proto__': <'x'>}") as Record<string, unknown>;
    expect(Object.keys(dict)).toEqual(["__proto__"]);
    expect(dict["__proto__"]).toBe("x");
  });

  it("refuses what it does not read, so that the caller unpacks the Variant instead", () => {
    // Bytes: recursiveUnpack() gives a Uint8Array.
    for (const text of ["([b'bytes'],)", "([byte 0x01, 0x02],)", "(@ay [],)", "(just 5,)", "('unterminated", "(1,) extra", "(<1>"]) {
      expect(() => parseVariantText(text), text).toThrow(VariantTextError);
    }
  });
});
