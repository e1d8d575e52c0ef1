// A match naming a common program (sleep, sh, python3, node, ...) adopts every such process of the user's: a warning.
import { describe, expect, it } from "vitest";

import { broadMatchWarning } from "../../daemon/config/broadMatch.js";
import { parseConfig } from "../../daemon/config/load.js";

// The warnings of every policy of a config.toml text.
function warningsOf(text: string): string[] {
  return [...parseConfig(text, "config.toml").policies.values()].flatMap((policy) => broadMatchWarning(policy) ?? []);
}

describe("broadMatchWarning", () => {
  it("warns of a default match that is a common program, with a whole-command-line match to use instead", () => {
    expect(warningsOf('[process.nap]\ncommand = ["sleep", "600"]\n')).toEqual([
      'process.nap: its match "sleep" names a common program, so it adopts every sleep process of yours, not only the one this policy starts; ' +
        'match the whole command line instead, e.g. match = "/^sleep 600$/"',
    ]);
    // An interpreter's default match is its script: no warning; inline code leaves the interpreter's name.
    expect(warningsOf('[process.web]\ncommand = ["python3", "-m", "http.server"]\n')).toEqual([]);
    expect(warningsOf('[process.app]\ncommand = ["node", "server.js"]\n')).toEqual([]);
    expect(warningsOf('[process.inline]\ncommand = ["sh", "-c", "while :; do sleep 1; done"]\n')[0]).toMatch(/^process\.inline: its match "sh" names a common program/);
    expect(warningsOf("[process.bash]\n")[0]).toMatch(/^process\.bash: its match "bash"/);
  });

  it("does not warn of a /regex/ match nor of an ordinary program name", () => {
    expect(warningsOf('[process.nap]\ncommand = ["sleep", "600"]\nmatch = "/^sleep 600$/"\n')).toEqual([]);
    expect(warningsOf("[process.gedit]\n")).toEqual([]);
  });

  it("escapes the command's words in the suggested match", () => {
    expect(broadMatchWarning({ name: "x", match: "python3", command: ["python3", "-c", "print(1+1)"] })).toContain('e.g. match = "/^python3 -c print\\\\(1\\\\+1\\\\)$/"');
  });
});
