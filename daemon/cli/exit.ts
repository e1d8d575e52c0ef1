// The end of a `selfheal` command: exit with its status as soon as it is
// known, rather than wait for handles it leaves open (watched programs, a
// config watcher, the bus connection) that are not ours to close.

/** How the process ends; tests pass their own. */
export type Exit = (status: number) => void;

/** The status of a command that failed with an error nobody caught. */
export const EXIT_FAILED = 1;

// Exit with the status `run` resolves to; when it rejects, say why on stderr and exit 1.
export function exitWhenDone(run: Promise<number>, exit: Exit = (status) => process.exit(status), stderr: (text: string) => void = (text) => process.stderr.write(text)): void {
  run.then(
    (status) => exit(status),
    (error: unknown) => {
      stderr(`selfheal: ${error instanceof Error ? error.message : String(error)}\n`);
      exit(EXIT_FAILED);
    },
  );
}
