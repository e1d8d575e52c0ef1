// A cheap look at one process between scans: is (pid, start time) still
// alive? Used while waiting for an adopted process to stop.
import { readFileSync } from "node:fs";

export interface ProcessProbe {
  /** True while the process that started at startTicks still runs (zombies count as gone). */
  isAlive(pid: number, startTicks: number): boolean;
}

export class ProcProbe implements ProcessProbe {
  constructor(private readonly procRoot = "/proc") {}

  isAlive(pid: number, startTicks: number): boolean {
    let text: string;
    try {
      text = readFileSync(`${this.procRoot}/${pid}/stat`, "latin1");
    } catch {
      return false;
    }
    // Fields after the comm: state is the first, starttime the 20th.
    const fields = text.slice(text.lastIndexOf(")") + 2).split(" ");
    return fields[0] !== "Z" && fields[0] !== "X" && Number(fields[19]) === startTicks;
  }
}
