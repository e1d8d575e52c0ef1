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

export function unknownProcess(name: string): EngineError {
  return new EngineError("UnknownProcess", `no policy named "${name}"; GetPolicies lists the known names`);
}
