// The Manager interface as dbus/io.github.SelfHeal1.Manager.xml defines it:
// built into the daemon by the build, parsed once at start, used to check every call's signature, and served back
// (doc annotations and argument names included) by Introspect.
import { readFileSync } from "node:fs";
import { INTERFACE_FILE, MANAGER_INTERFACE, STANDARD_INTERFACES } from "./names.js";
import { escapeAttribute, parseXml, type XmlElement } from "./xml.js";

export interface Annotation {
  name: string;
  value: string;
}

export interface ArgSpec {
  name: string;
  type: string;
}

export interface MethodSpec {
  name: string;
  inArgs: ArgSpec[];
  outArgs: ArgSpec[];
  /** The concatenated in-argument types, as a call's signature must read. */
  inSignature: string;
  outSignature: string;
  annotations: Annotation[];
}

export interface SignalSpec {
  name: string;
  args: ArgSpec[];
  signature: string;
  annotations: Annotation[];
}

export interface PropertySpec {
  name: string;
  type: string;
  access: "read" | "write" | "readwrite";
  annotations: Annotation[];
}

export interface InterfaceSpec {
  name: string;
  methods: Map<string, MethodSpec>;
  signals: Map<string, SignalSpec>;
  properties: Map<string, PropertySpec>;
  annotations: Annotation[];
}

/** The standard interfaces every object of ours implements, as introspection XML. */
const STANDARD_XML = `  <interface name="${STANDARD_INTERFACES.introspectable}">
    <method name="Introspect">
      <arg name="xml_data" type="s" direction="out"/>
    </method>
  </interface>
  <interface name="${STANDARD_INTERFACES.peer}">
    <method name="Ping"/>
    <method name="GetMachineId">
      <arg name="machine_uuid" type="s" direction="out"/>
    </method>
  </interface>
  <interface name="${STANDARD_INTERFACES.properties}">
    <method name="Get">
      <arg name="interface_name" type="s" direction="in"/>
      <arg name="property_name" type="s" direction="in"/>
      <arg name="value" type="v" direction="out"/>
    </method>
    <method name="GetAll">
      <arg name="interface_name" type="s" direction="in"/>
      <arg name="properties" type="a{sv}" direction="out"/>
    </method>
    <method name="Set">
      <arg name="interface_name" type="s" direction="in"/>
      <arg name="property_name" type="s" direction="in"/>
      <arg name="value" type="v" direction="in"/>
    </method>
    <signal name="PropertiesChanged">
      <arg name="interface_name" type="s"/>
      <arg name="changed_properties" type="a{sv}"/>
      <arg name="invalidated_properties" type="as"/>
    </signal>
  </interface>
`;

const DOCTYPE =
  '<!DOCTYPE node PUBLIC "-//freedesktop//DTD D-BUS Object Introspection 1.0//EN"\n "http://www.freedesktop.org/standards/dbus/1.0/introspect.dtd">\n';

function annotationsOf(element: XmlElement): Annotation[] {
  return element.children
    .filter((child) => child.name === "annotation")
    .map((child) => ({ name: child.attributes.name ?? "", value: child.attributes.value ?? "" }));
}

function argsOf(element: XmlElement, direction: "in" | "out" | null): ArgSpec[] {
  return element.children
    .filter((child) => child.name === "arg" && (direction === null || (child.attributes.direction ?? "in") === direction))
    .map((child) => ({ name: child.attributes.name ?? "", type: child.attributes.type ?? "" }));
}

function signatureOf(args: readonly ArgSpec[]): string {
  return args.map((arg) => arg.type).join("");
}

// Read one interface out of introspection XML text.
export function parseInterfaceXml(text: string, interfaceName: string): InterfaceSpec {
  const root = parseXml(text);
  const element = root.children.find((child) => child.name === "interface" && child.attributes.name === interfaceName);
  if (!element) throw new Error(`the XML defines no interface ${interfaceName}`);
  const spec: InterfaceSpec = { name: interfaceName, methods: new Map(), signals: new Map(), properties: new Map(), annotations: annotationsOf(element) };
  for (const child of element.children) {
    const name = child.attributes.name ?? "";
    if (child.name === "method") {
      const inArgs = argsOf(child, "in");
      const outArgs = argsOf(child, "out");
      spec.methods.set(name, { name, inArgs, outArgs, inSignature: signatureOf(inArgs), outSignature: signatureOf(outArgs), annotations: annotationsOf(child) });
    } else if (child.name === "signal") {
      const args = argsOf(child, null);
      spec.signals.set(name, { name, args, signature: signatureOf(args), annotations: annotationsOf(child) });
    } else if (child.name === "property") {
      const access = child.attributes.access;
      if (access !== "read" && access !== "write" && access !== "readwrite") throw new Error(`property ${name} has no valid access`);
      spec.properties.set(name, { name, type: child.attributes.type ?? "", access, annotations: annotationsOf(child) });
    }
  }
  return spec;
}

function renderAnnotations(annotations: readonly Annotation[], indent: string): string {
  return annotations.map((a) => `${indent}<annotation name="${escapeAttribute(a.name)}" value="${escapeAttribute(a.value)}"/>\n`).join("");
}

function renderArg(arg: ArgSpec, direction: "in" | "out" | null, indent: string): string {
  const name = arg.name === "" ? "" : ` name="${escapeAttribute(arg.name)}"`;
  return `${indent}<arg${name} type="${escapeAttribute(arg.type)}"${direction === null ? "" : ` direction="${direction}"`}/>\n`;
}

// One interface back as introspection XML.
export function renderInterface(spec: InterfaceSpec): string {
  let out = `  <interface name="${escapeAttribute(spec.name)}">\n${renderAnnotations(spec.annotations, "    ")}`;
  for (const method of spec.methods.values()) {
    out += `    <method name="${escapeAttribute(method.name)}">\n${renderAnnotations(method.annotations, "      ")}`;
    for (const arg of method.inArgs) out += renderArg(arg, "in", "      ");
    for (const arg of method.outArgs) out += renderArg(arg, "out", "      ");
    out += "    </method>\n";
  }
  for (const signal of spec.signals.values()) {
    out += `    <signal name="${escapeAttribute(signal.name)}">\n${renderAnnotations(signal.annotations, "      ")}`;
    for (const arg of signal.args) out += renderArg(arg, null, "      ");
    out += "    </signal>\n";
  }
  for (const property of spec.properties.values()) {
    const inner = renderAnnotations(property.annotations, "      ");
    const open = `    <property name="${escapeAttribute(property.name)}" type="${escapeAttribute(property.type)}" access="${property.access}"`;
    out += inner === "" ? `${open}/>\n` : `${open}>\n${inner}    </property>\n`;
  }
  return `${out}  </interface>\n`;
}

// The Introspect reply for an object: its interfaces (with the standard ones) and its child nodes.
export function renderNode(interfaces: readonly InterfaceSpec[], children: readonly string[]): string {
  let out = `${DOCTYPE}<node>\n`;
  if (interfaces.length > 0) out += STANDARD_XML + interfaces.map(renderInterface).join("");
  for (const child of children) out += `  <node name="${escapeAttribute(child)}"/>\n`;
  return `${out}</node>\n`;
}

/** The interface XML, put into the bundle by the build (build.mjs); undefined when the code runs from source. */
declare const SELFHEAL_MANAGER_XML: string | undefined;

// The Manager interface XML text: built into the daemon, so no file is looked up when it runs
// (from source, in the tests' unit runs, the checkout's file).
export function managerInterfaceXml(): string {
  return typeof SELFHEAL_MANAGER_XML === "string" ? SELFHEAL_MANAGER_XML : readFileSync(new URL(`../../dbus/${INTERFACE_FILE}`, import.meta.url), "utf8");
}

// The Manager interface as the XML defines it.
export function loadManagerInterface(): InterfaceSpec {
  return parseInterfaceXml(managerInterfaceXml(), MANAGER_INTERFACE);
}
