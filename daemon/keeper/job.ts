// The job the daemon hands a keeper on its stdin (keeper.c): NUL-terminated
// fields, "selfheal-job 2", LENGTH (the byte count of what follows), TAG,
// CWD, ENV COUNT, ENV..., ARG COUNT, ARG... The length lets the keeper start
// the program the moment the job is whole, not when the daemon closes the pipe.

const JOB_MAGIC = "selfheal-job 2";

/** What a keeper is asked to run. */
export interface KeeperJob {
  /** The policy's name, encoded (record.ts encodeTag). */
  tag: string;
  cwd: string;
  /** "KEY=value" entries: exactly the program's environment. */
  env: readonly string[];
  argv: readonly string[];
}

// A list as the job writes it: its length, then its items.
function counted(items: readonly string[]): string[] {
  return [String(items.length), ...items];
}

// The job's bytes; throws when a field holds a NUL (it would end the field early).
export function encodeJob(job: KeeperJob): Buffer {
  const fields = [job.tag, job.cwd, ...counted(job.env), ...counted(job.argv)];
  if (fields.some((field) => field.includes("\0"))) throw new Error("its command, folder or environment holds a NUL character");
  const body = Buffer.from(fields.map((field) => `${field}\0`).join(""), "utf8");
  return Buffer.concat([Buffer.from(`${JOB_MAGIC}\0${body.length}\0`, "utf8"), body]);
}
