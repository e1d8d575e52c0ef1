// The small introspection-XML parser and the interface read from dbus/.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { parseXml, decodeEntities, escapeAttribute } from "../../daemon/bus/xml.js";
import { parseInterfaceXml, renderInterface, renderNode } from "../../daemon/bus/introspection.js";
import { INTERFACE_XML, MANAGER_INTERFACE } from "../helpers/bus.js";

describe("parseXml", () => {
  it("reads nested elements and attributes, skipping the declaration, DOCTYPE and comments", () => {
    const root = parseXml(`<?xml version="1.0"?>
<!DOCTYPE node PUBLIC "-//x//y" "http://z">
<!-- a <comment> -->
<node name="/a"><interface name='i.j'><method name="M"><arg type="s" direction="in"/></method></interface></node>`);
    expect(root.name).toBe("node");
    expect(root.attributes).toEqual({ name: "/a" });
    const method = root.children[0]!.children[0]!;
    expect(method).toMatchObject({ name: "method", attributes: { name: "M" } });
    expect(method.children[0]!.attributes).toEqual({ type: "s", direction: "in" });
  });

  it("decodes entities in attribute values and escapes them back", () => {
    expect(decodeEntities("a &lt;b&gt; &amp; &quot;c&quot; &#65;&#x42;")).toBe('a <b> & "c" AB');
    expect(parseXml('<a v="x &amp; y"/>').attributes.v).toBe("x & y");
    expect(escapeAttribute('<"&">')).toBe("&lt;&quot;&amp;&quot;&gt;");
  });

  it("rejects mismatched or unclosed elements", () => {
    expect(() => parseXml("<a><b></a>")).toThrow(/unexpected <\/a>/);
    expect(() => parseXml("<a>")).toThrow(/never closed/);
    expect(() => parseXml("<a/><b/>")).toThrow(/one root/);
  });
});

describe("the interface file", () => {
  const text = readFileSync(INTERFACE_XML, "utf8");
  const spec = parseInterfaceXml(text, MANAGER_INTERFACE);

  it("defines every method, signal and property of the contract with its types", () => {
    const methods = Object.fromEntries([...spec.methods.values()].map((m) => [m.name, `(${m.inSignature})→(${m.outSignature})`]));
    expect(methods).toMatchObject({
      ListProcesses: "()→(aa{sv})",
      GetProcess: "(s)→(a{sv})",
      StartProcess: "(s)→()",
      StopProcess: "(s)→()",
      RestartProcess: "(s)→()",
      ListAnomalies: "()→(aa{sv})",
      ListZombies: "()→(aa{sv})",
      CleanupZombies: "()→(uu)",
      GetCooldowns: "()→(aa{sv})",
      ResetCooldown: "(s)→()",
      GetPolicies: "()→(a{sa{sv}})",
      SetPolicy: "(sa{sv})→()",
      RemovePolicy: "(s)→()",
      ResetPolicy: "(s)→()",
      GetHiddenPolicies: "()→(a{sa{sv}})",
      GetEvents: "(tu)→(aa{sv})",
    });
    const signals = Object.fromEntries([...spec.signals.values()].map((s) => [s.name, s.signature]));
    expect(signals).toMatchObject({
      ProcessCrashed: "suisb",
      ProcessRestarted: "suus",
      ResourceViolation: "susdd",
      AnomalyDetected: "susa{sv}",
      CooldownActivated: "sud",
      CooldownEnded: "s",
      ZombiesDetected: "u",
      ZombiesCleaned: "uu",
    });
    const properties = Object.fromEntries([...spec.properties.values()].map((p) => [p.name, `${p.type} ${p.access}`]));
    expect(properties).toEqual({
      Version: "s read",
      Health: "s read",
      WatchedCount: "u read",
      ZombieCount: "u read",
      AnomalyCount: "u read",
      CooldownCount: "u read",
      ConfigError: "s read",
    });
  });

  it("documents every member with a DocString annotation", () => {
    const members = [...spec.methods.values(), ...spec.signals.values(), ...spec.properties.values()];
    const undocumented = members.filter((member) => !member.annotations.some((a) => a.name === "org.freedesktop.DBus.DocString" && a.value.length > 10));
    expect(undocumented.map((member) => member.name)).toEqual([]);
  });

  it("renders back to XML that parses to the same interface", () => {
    const again = parseInterfaceXml(renderNode([spec], []), MANAGER_INTERFACE);
    expect(renderInterface(again)).toBe(renderInterface(spec));
    expect([...again.methods.keys()]).toEqual([...spec.methods.keys()]);
  });
});
