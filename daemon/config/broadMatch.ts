// A policy whose match is the name of a program a desktop runs many of
// (sleep, sh, bash, python3, node, ...) adopts every such process of the
// user's, not only the one it starts: selfheal would then restart, limit or
// end programs the policy was never meant for. It is valid, so it is a
// warning, told when the config is applied and by `selfheal status`.

/** Programs of which a desktop session commonly runs several unrelated copies. */
export const COMMON_PROGRAMS: ReadonlySet<string> = new Set([
  "sleep", "sh", "bash", "dash", "zsh", "fish", "ksh", "env", "cat", "tail", "watch", "timeout", "xargs", "find",
  "python", "python3", "python2", "node", "nodejs", "perl", "ruby", "php", "lua", "java", "gjs", "deno", "bun",
  "npm", "npx", "make", "ssh", "git", "vim", "nvim", "less", "top", "htop", "tmux", "screen", "sudo", "su",
]);

/** The policy's fields the check reads. */
export interface MatchedPolicy {
  name: string;
  match: string;
  command: readonly string[];
}

// The warning for one policy, or null: a plain-name match (not /regex/) naming a common program.
export function broadMatchWarning(policy: MatchedPolicy): string | null {
  if (policy.match.startsWith("/") || !COMMON_PROGRAMS.has(policy.match)) return null;
  const example = `/^${policy.command.map(escapeRegex).join(" ")}$/`;
  return (
    `process.${policy.name}: its match "${policy.match}" names a common program, so it adopts every ${policy.match} process of yours, ` +
    `not only the one this policy starts; match the whole command line instead, e.g. match = ${JSON.stringify(example)}`
  );
}

// Escape a command-line word for a /regex/ match.
function escapeRegex(word: string): string {
  return word.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");
}
