// A small parser for D-Bus introspection XML: elements and their attributes,
// no text content. Enough for the interface file, which has no mixed content;
// anything it cannot read is an error naming the offset.

export interface XmlElement {
  name: string;
  attributes: Record<string, string>;
  children: XmlElement[];
}

const NAMED_ENTITIES: Record<string, string> = { lt: "<", gt: ">", amp: "&", quot: '"', apos: "'" };
const TAG = /<([A-Za-z_][\w.:-]*)((?:\s+[A-Za-z_][\w.:-]*\s*=\s*(?:"[^"]*"|'[^']*'))*)\s*(\/?)>/y;
const ATTRIBUTE = /([A-Za-z_][\w.:-]*)\s*=\s*(?:"([^"]*)"|'([^']*)')/g;
const CLOSE = /<\/([A-Za-z_][\w.:-]*)\s*>/y;

// Replace XML entities (&lt; &#10; &#x41;) with the characters they stand for.
export function decodeEntities(text: string): string {
  return text.replace(/&(#x[0-9A-Fa-f]+|#[0-9]+|[A-Za-z]+);/g, (whole, entity: string) => {
    if (entity.startsWith("#x")) return String.fromCodePoint(Number.parseInt(entity.slice(2), 16));
    if (entity.startsWith("#")) return String.fromCodePoint(Number.parseInt(entity.slice(1), 10));
    return NAMED_ENTITIES[entity] ?? whole;
  });
}

// Escape text for an attribute value in double quotes.
export function escapeAttribute(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;").replace(/\n/g, "&#10;");
}

// Skip a declaration, comment or DOCTYPE at `at`; returns where parsing resumes, or -1 when none is there.
function skipMarkup(text: string, at: number): number {
  const ends: Array<[string, string]> = [
    ["<?", "?>"],
    ["<!--", "-->"],
    ["<!DOCTYPE", ">"],
  ];
  for (const [open, close] of ends) {
    if (!text.startsWith(open, at)) continue;
    const end = text.indexOf(close, at + open.length);
    if (end === -1) throw new Error(`unterminated ${open} at offset ${at}`);
    return end + close.length;
  }
  return -1;
}

// Parse a document into its root element.
export function parseXml(text: string): XmlElement {
  const root: XmlElement = { name: "#document", attributes: {}, children: [] };
  const stack: XmlElement[] = [root];
  let at = 0;
  while (at < text.length) {
    const lt = text.indexOf("<", at);
    if (lt === -1) break;
    const skipped = skipMarkup(text, lt);
    if (skipped !== -1) {
      at = skipped;
      continue;
    }
    CLOSE.lastIndex = lt;
    const close = CLOSE.exec(text);
    if (close) {
      const open = stack.pop();
      if (!open || open === root || open.name !== close[1]) throw new Error(`unexpected </${close[1]}> at offset ${lt}`);
      at = CLOSE.lastIndex;
      continue;
    }
    TAG.lastIndex = lt;
    const tag = TAG.exec(text);
    if (!tag) throw new Error(`cannot read the markup at offset ${lt}: ${JSON.stringify(text.slice(lt, lt + 40))}`);
    const element: XmlElement = { name: tag[1] ?? "", attributes: {}, children: [] };
    for (const attribute of (tag[2] ?? "").matchAll(ATTRIBUTE)) {
      element.attributes[attribute[1] ?? ""] = decodeEntities(attribute[2] ?? attribute[3] ?? "");
    }
    stack[stack.length - 1]?.children.push(element);
    if (tag[3] !== "/") stack.push(element);
    at = TAG.lastIndex;
  }
  if (stack.length !== 1) throw new Error(`<${stack[stack.length - 1]?.name}> is never closed`);
  const [first] = root.children;
  if (!first || root.children.length !== 1) throw new Error("expected exactly one root element");
  return first;
}
