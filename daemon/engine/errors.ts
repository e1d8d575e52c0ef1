// Errors the engine reports to callers (the D-Bus service maps each name to
// io.github.SelfHeal1.Error.<name>).

export type EngineErrorName = "UnknownProcess" | "Protected" | "InvalidPolicy" | "Failed";

export class EngineError extends Error {
  constructor(
    readonly errorName: EngineErrorName,
    message: string,
  ) {
    super(message);
    this.name = "EngineError";
  }
}

// "no program named "gedit"; watched programs: firefox, notes": the name asked for and the ones there are.
export function unknownProcess(name: string, known: Iterable<string>): EngineError {
  return new EngineError("UnknownProcess", `no program named "${name}"; ${watchedPrograms(known)}`);
}

// The names a person could have meant, or how to get one.
export function watchedPrograms(known: Iterable<string>): string {
  const names = [...known].sort();
  return names.length === 0 ? "no program is watched yet (add a [process.NAME] table to config.toml)" : `watched programs: ${names.join(", ")}`;
}
