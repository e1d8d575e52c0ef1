// A desktop file's Exec line as the argv selfheal starts, following the
// Desktop Entry Specification's "The Exec key": arguments split at spaces,
// double-quoted arguments with \" \` \$ \\ escaped inside, and field codes
// expanded for a start that opens no file (%f %F %u %U drop out, %i %c %k
// expand, %% is a %, the deprecated ones drop out). The string escapes of the
// value (\\ for \) are read before this, as the spec orders.

/** What the field codes that name the entry expand to. */
export interface ExecContext {
  /** The Icon key (%i); undefined or "" expands to nothing. */
  icon?: string;
  /** The translated Name (%c). */
  name?: string;
  /** The desktop file's path (%k). */
  location?: string;
}

/** An Exec line that cannot be read; `message` says where and why. */
export class ExecLineError extends Error {
  override readonly name = "ExecLineError";
}

/** Field codes that name files or URLs: with nothing to open they expand to nothing. */
const FILE_CODES = new Set(["f", "F", "u", "U"]);
/** Field codes the spec deprecates: removed from the command line. */
const DEPRECATED_CODES = new Set(["d", "D", "n", "N", "v", "m"]);
/** Characters a backslash escapes inside a double-quoted argument. */
const QUOTED_ESCAPES = new Set(['"', "`", "$", "\\"]);

/** One argument as it is read: its text, and whether anything but an empty field code made it. */
interface Token {
  text: string;
  /** A quote or a literal character: an argument that is only %f (expanded to nothing) is dropped. */
  literal: boolean;
  /** The argument was only %i: it becomes `--icon ICON`, or nothing. */
  iconOnly: boolean;
}

// The argv an Exec line runs with no file or URL to open. Throws ExecLineError for an unterminated
// quote, an unknown field code, %i inside another argument, or a line with no program.
export function expandExec(exec: string, context: ExecContext = {}): string[] {
  const tokens = tokenize(exec, context);
  const argv: string[] = [];
  for (const token of tokens) {
    if (token.iconOnly) {
      if (context.icon !== undefined && context.icon !== "") argv.push("--icon", context.icon);
      continue;
    }
    if (token.literal || token.text !== "") argv.push(token.text);
  }
  if (argv.length === 0 || argv[0] === "") throw new ExecLineError(`Exec names no program: ${JSON.stringify(exec)}`);
  return argv;
}

// Split the line into arguments, reading quotes and expanding field codes as it goes.
function tokenize(exec: string, context: ExecContext): Token[] {
  const tokens: Token[] = [];
  let current: Token | null = null;
  const token = (): Token => (current ??= { text: "", literal: false, iconOnly: false });
  let i = 0;
  while (i < exec.length) {
    const char = exec.charAt(i);
    if (char === " " || char === "\t" || char === "\n") {
      if (current !== null) tokens.push(current);
      current = null;
      i += 1;
    } else if (char === '"') {
      const end = readDoubleQuoted(exec, i + 1, token(), context);
      i = end + 1;
    } else if (char === "'") {
      // Not in the spec, but written in real files (sh -c '...') and read by GLib as a shell would: up to the next '.
      const end = exec.indexOf("'", i + 1);
      if (end < 0) throw new ExecLineError(`Exec has an unterminated ' quote: ${JSON.stringify(exec)}`);
      const target = token();
      target.text += exec.slice(i + 1, end);
      target.literal = true;
      i = end + 1;
    } else if (char === "\\") {
      // Outside quotes a backslash escapes the next character, as in a shell (GLib reads it so).
      const target = token();
      target.text += exec.charAt(i + 1);
      target.literal = true;
      i += 2;
    } else if (char === "%") {
      expandCode(exec, i, token(), context);
      i += 2;
    } else {
      const target = token();
      target.text += char;
      target.literal = true;
      i += 1;
    }
  }
  if (current !== null) tokens.push(current);
  for (const each of tokens) {
    if (each.iconOnly && (each.text !== "" || each.literal)) throw new ExecLineError(`Exec's %i must be an argument of its own: ${JSON.stringify(exec)}`);
  }
  return tokens;
}

// Read a double-quoted part from `start` (just after the opening quote) into `target`; returns the closing quote's index.
function readDoubleQuoted(exec: string, start: number, target: Token, context: ExecContext): number {
  target.literal = true;
  let i = start;
  while (i < exec.length) {
    const char = exec.charAt(i);
    if (char === '"') return i;
    if (char === "\\" && QUOTED_ESCAPES.has(exec.charAt(i + 1))) {
      target.text += exec.charAt(i + 1);
      i += 2;
    } else if (char === "%") {
      // The spec leaves field codes inside quotes undefined; GLib expands them there too, and so does this.
      expandCode(exec, i, target, context);
      i += 2;
    } else {
      target.text += char;
      i += 1;
    }
  }
  throw new ExecLineError(`Exec has an unterminated " quote: ${JSON.stringify(exec)}`);
}

// Expand the field code at `at` (a %) into `target`.
function expandCode(exec: string, at: number, target: Token, context: ExecContext): void {
  const code = exec.charAt(at + 1);
  if (code === "%") {
    target.text += "%";
    target.literal = true;
  } else if (FILE_CODES.has(code) || DEPRECATED_CODES.has(code)) {
    // Nothing to open: the code expands to nothing (an argument made only of it goes).
  } else if (code === "i") {
    // Valid only as an argument of its own; checked once the argument is complete.
    if (target.text !== "" || target.literal) throw new ExecLineError(`Exec's %i must be an argument of its own: ${JSON.stringify(exec)}`);
    target.iconOnly = true;
  } else if (code === "c") {
    target.text += context.name ?? "";
    target.literal = true;
  } else if (code === "k") {
    target.text += context.location ?? "";
    target.literal = true;
  } else {
    const shown = code === "" ? "a % at the end" : `the field code %${code}`;
    throw new ExecLineError(`Exec has ${shown}, which the Desktop Entry Specification does not define (write %% for a literal %): ${JSON.stringify(exec)}`);
  }
}
