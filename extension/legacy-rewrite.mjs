// The GNOME 42–44 build's one rewrite: the import lines of the src/gi/ seam become imports.*
// lookups (gi://St → imports.gi.St, resource:///org/gnome/shell/ui/main.js → imports.ui.main),
// and GNOME 45's extension base classes, which have no imports.* twin, become local stand-ins.

// Where the legacy build sends each module the seam imports.
export function legacyExpression(specifier) {
  let m = /^gi:\/\/(\w+)(\?.*)?$/.exec(specifier);
  if (m) return `imports.gi.${m[1]}`;
  m = /^resource:\/\/\/org\/gnome\/shell\/((?:ui|misc)(?:\/\w+)*)\/(\w+)\.js$/.exec(specifier);
  if (m) return `imports.${m[1].replaceAll("/", ".")}.${m[2]}`;
  return null;
}

// GNOME 45's extension base classes have no imports.* twin: the legacy build uses stand-ins.
export const LEGACY_SHIMS = {
  "resource:///org/gnome/shell/extensions/extension.js": "./legacy/extension.js",
  "resource:///org/gnome/Shell/Extensions/js/extensions/prefs.js": "./legacy/prefs.js",
};

// Rewrites the import lines of one seam module into imports.* lookups (GNOME 42–44).
export function rewriteSeamForLegacy(source, file) {
  const importLine = /^import\s+(?!type\b)(.+?)\s+from\s+["']((?:gi|resource):[^"']+)["'];?[ \t]*$/gm;
  return source.replace(importLine, (line, clause, specifier) => {
    if (LEGACY_SHIMS[specifier]) return `import ${clause} from "${LEGACY_SHIMS[specifier]}";`;
    const expression = legacyExpression(specifier);
    if (!expression) throw new Error(`${file}: no GNOME 42–44 equivalent known for "${specifier}"`);
    const namespace = /^\*\s+as\s+(\w+)$/.exec(clause);
    if (namespace) return `const ${namespace[1]} = ${expression};`;
    const named = /^\{(.+)\}$/.exec(clause);
    if (named) return `const { ${named[1].trim().replace(/\s+as\s+/g, ": ")} } = ${expression};`;
    if (/^\w+$/.test(clause)) return `const ${clause} = ${expression};`;
    throw new Error(`${file}: cannot rewrite the import clause "${clause}" of "${specifier}"`);
  });
}
