// Map every key path written in a TOML document to the line and column it was
// written at, from toml-eslint-parser's AST: table headers, dotted keys,
// inline tables and array elements.
import type { Locate, Position } from "./issues.js";
import type { AST } from "toml-eslint-parser";

type Path = readonly PropertyKey[];

// A Map key for a key path.
function pathId(path: Path): string {
  return JSON.stringify(path.map((segment) => (typeof segment === "number" ? segment : String(segment))));
}

// The 1-based position of a node's start.
function startOf(node: { loc: { start: { line: number; column: number } } }): Position {
  return { line: node.loc.start.line, column: node.loc.start.column + 1 };
}

// The plain names of a (possibly dotted) key.
function keyNames(key: AST.TOMLKey): string[] {
  return key.keys.map((part) => (part.type === "TOMLBare" ? part.name : part.value));
}

/** The positions of every key path in one parsed TOML document. */
export class KeyLocator {
  private readonly positions = new Map<string, Position>();

  constructor(program: AST.TOMLProgram) {
    for (const node of program.body[0].body) {
      if (node.type === "TOMLTable") this.visitTable(node);
      else this.visitKeyValue([], node);
    }
  }

  // The position of `path`, else of its nearest ancestor written in the file, else null.
  locate(path: Path): Position | null {
    for (let length = path.length; length >= 0; length--) {
      const found = this.positions.get(pathId(path.slice(0, length)));
      if (found) return found;
    }
    return null;
  }

  // Every key path written whose last key is `name` (e.g. "__proto__"), with its position.
  pathsNamed(name: string): Array<{ path: PropertyKey[]; position: Position }> {
    const found: Array<{ path: PropertyKey[]; position: Position }> = [];
    for (const [id, position] of this.positions) {
      const path = JSON.parse(id) as PropertyKey[];
      if (path[path.length - 1] === name) found.push({ path, position });
    }
    return found;
  }

  // A Locate function bound to this document.
  get locator(): Locate {
    return (path) => this.locate(path);
  }

  // Record a path at `position`; implicit parents only keep their first sighting.
  private record(path: Path, position: Position, explicit: boolean): void {
    const id = pathId(path);
    if (explicit || !this.positions.has(id)) this.positions.set(id, position);
  }

  // Record every proper prefix of `path` as implicitly defined at `position`.
  private recordParents(path: Path, position: Position, from: number): void {
    for (let length = from + 1; length < path.length; length++) this.record(path.slice(0, length), position, false);
  }

  // A [table] or [[array.of.tables]] header and the keys under it.
  private visitTable(table: AST.TOMLTable): void {
    const path = table.resolvedKey;
    const position = startOf(table.key);
    this.recordParents(path, position, 0);
    this.record(path, position, true);
    for (const keyValue of table.body) this.visitKeyValue(path, keyValue);
  }

  // `a.b.c = value` under `base`.
  private visitKeyValue(base: Path, keyValue: AST.TOMLKeyValue): void {
    const path = [...base, ...keyNames(keyValue.key)];
    const position = startOf(keyValue.key);
    this.recordParents(path, position, base.length);
    this.record(path, position, true);
    this.visitValue(path, keyValue.value);
  }

  // Descend into inline tables and arrays to record their inner keys and elements.
  private visitValue(path: Path, node: AST.TOMLContentNode): void {
    if (node.type === "TOMLInlineTable") {
      for (const keyValue of node.body) this.visitKeyValue(path, keyValue);
    } else if (node.type === "TOMLArray") {
      node.elements.forEach((element, index) => {
        const elementPath = [...path, index];
        this.record(elementPath, startOf(element), true);
        this.visitValue(elementPath, element);
      });
    }
  }
}
