// Types of legacy-rewrite.mjs, for the tests that import it.
export function legacyExpression(specifier: string): string | null;
export const LEGACY_SHIMS: Record<string, string>;
export function rewriteSeamForLegacy(source: string, file: string): string;
