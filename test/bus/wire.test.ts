// The message encoder: what it writes, dbus-next's decoder reads back the same,
// and its bytes equal dbus-next's own encoder's.
import { describe, expect, it } from "vitest";
import codec from "dbus-next/lib/message.js";
import compat from "dbus-next/lib/marshall-compat.js";
import { Message, Variant } from "../../daemon/bus/dbus.js";
import { encodeMessage, parseSignature, type OutgoingMessage } from "../../daemon/bus/wire.js";

// Encode with ours, decode with dbus-next's.
function roundTrip(message: OutgoingMessage): InstanceType<typeof Message> {
  const raw = (codec as unknown as { unmarshall(buffer: Buffer): unknown }).unmarshall(encodeMessage(message));
  return new Message(compat.messageToJsFmt(raw));
}

const CASES: Array<[string, unknown[]]> = [
  ["", []],
  ["s", ["héllo wörld ✓"]],
  ["ybnqiuxtd", [255, true, -32768, 65535, -2147483648, 4294967295, -(2n ** 62n), 2n ** 64n - 1n, -1.5e300]],
  ["as", [["a", "", "ccc"]]],
  ["ay", [Buffer.from([0, 1, 2, 255])]],
  ["a{sv}", [{ name: new Variant("s", "gedit"), pid: new Variant("u", 42), rss: new Variant("t", 123456789012n), cpu: new Variant("d", 0.5), ok: new Variant("b", false) }]],
  ["aa{sv}", [[{ a: new Variant("as", ["x"]) }, {}, { nested: new Variant("a{sv}", { deep: new Variant("v", new Variant("i", -7)) }) }]]],
  ["a{sa{sv}}", [{ p1: { command: new Variant("as", ["a", "b"]) }, p2: {} }]],
  ["a{ss}", [{ LANG: "C", EMPTY: "" }]],
  ["a{sd}", [{ r2: 0.99, slope: 5.1e6 }]],
  ["(uu)", [[1, 2]]],
  ["uu", [3, 4]],
  ["susa{sv}", ["gedit", 42, "memory_leak", { detail: new Variant("s", "grew"), r2: new Variant("d", 0.9) }]],
  ["sa{sv}as", ["io.github.SelfHeal1.Manager", { Health: new Variant("s", "ok") }, []]],
  ["ax", [[1n, -2n, 3n]]],
  ["ad", [[]]],
  ["a(yv)", [[[1, new Variant("o", "/a/b")], [8, new Variant("g", "a{sv}")]]]],
  // Short ASCII strings are written byte by byte, others by Buffer.write: both sides of the line, and a buffer that must grow.
  ["as", [["x".repeat(64), "y".repeat(65), "é".repeat(40), "a✓", "z".repeat(300 * 1024)]]],
];

describe("encodeMessage", () => {
  // dbus-next's standalone decoder needs a signature field, which an empty body does not have.
  it.each(CASES.filter(([signature]) => signature !== ""))("signature %s reads back as written", (signature, body) => {
    const message: OutgoingMessage = {
      type: 2,
      serial: 7,
      replySerial: 3,
      destination: ":1.42",
      sender: ":1.1",
      signature,
      body,
    };
    const back = roundTrip(message);
    expect(back.signature ?? "").toBe(signature);
    expect(back.body).toEqual(body);
    expect(back.serial).toBe(7);
    expect(Number(back.replySerial)).toBe(3);
    expect(back.destination).toBe(":1.42");
  });

  it.each(CASES)("signature %s: the same bytes as dbus-next's encoder", (signature, body) => {
    const message = new Message({ type: 4, serial: 9, path: "/io/github/SelfHeal1", interface: "io.github.SelfHeal1.Manager", member: "Sig", signature, body });
    expect(encodeMessage(message as unknown as OutgoingMessage).equals(compat.marshallMessage(message)[0])).toBe(true);
  });

  it("the extremes of 64-bit integers read back", () => {
    expect(roundTrip({ type: 2, serial: 1, replySerial: 1, signature: "xt", body: [-(2n ** 63n), 0n] }).body).toEqual([-(2n ** 63n), 0n]);
  });

  it("errors and signals carry their header fields", () => {
    const error = roundTrip({ type: 3, serial: 5, errorName: "io.github.SelfHeal1.Error.Protected", replySerial: 4, destination: ":1.9", signature: "s", body: ["no"] });
    expect(error).toMatchObject({ errorName: "io.github.SelfHeal1.Error.Protected", body: ["no"] });
    const signal = roundTrip({ type: 4, serial: 6, path: "/io/github/SelfHeal1", interface: "io.github.SelfHeal1.Manager", member: "CooldownEnded", signature: "s", body: ["x"] });
    expect(signal).toMatchObject({ path: "/io/github/SelfHeal1", interface: "io.github.SelfHeal1.Manager", member: "CooldownEnded" });
  });

  it("refuses what the wire cannot carry", () => {
    const encode = (signature: string, body: unknown[]) => () => encodeMessage({ serial: 1, signature, body });
    expect(encode("u", [-1])).toThrow(/as D-Bus type "u"/);
    expect(encode("u", [1.5])).toThrow();
    expect(encode("t", [-1n])).toThrow();
    expect(encode("s", ["a\0b"])).toThrow(/NUL/);
    expect(encode("s", [`${"a".repeat(100)}\0`])).toThrow(/NUL/);
    expect(encode("s", ["é\0"])).toThrow(/NUL/);
    expect(encode("v", ["not a variant"])).toThrow();
    expect(encode("as", ["not an array"])).toThrow();
    expect(encode("ss", ["one"])).toThrow(/1 values/);
    expect(() => parseSignature("a{vs}")).toThrow(/dict entry/);
    expect(() => parseSignature("(")).toThrow(/ends too early/);
  });
});
