// How a command's end becomes the process's exit: at once, with its status,
// also when it failed with an error that escaped it (then status 1).
import { describe, expect, it } from "vitest";
import { EXIT_FAILED, exitWhenDone } from "../../daemon/cli/exit.js";

// Run exitWhenDone on `run`; resolves with the exits it asked for and what it wrote.
async function outcome(run: Promise<number>): Promise<{ exits: number[]; stderr: string }> {
  const exits: number[] = [];
  let stderr = "";
  exitWhenDone(run, (status) => exits.push(status), (text) => (stderr += text));
  await run.catch(() => undefined);
  // Both handlers run in the microtask after `run` settles.
  await Promise.resolve();
  return { exits, stderr };
}

describe("exitWhenDone", () => {
  it("exits with the status the command returned", async () => {
    expect(await outcome(Promise.resolve(0))).toEqual({ exits: [0], stderr: "" });
    expect(await outcome(Promise.resolve(2))).toEqual({ exits: [2], stderr: "" });
  });

  it("exits with status 1 when the command failed with an escaped error, not only once every handle is closed", async () => {
    const before = process.exitCode;
    const result = await outcome(Promise.reject(new Error("the bus went away")));
    process.exitCode = before;
    expect(result).toEqual({ exits: [EXIT_FAILED], stderr: "selfheal: the bus went away\n" });
  });
});
