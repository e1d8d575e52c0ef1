// Programs run by interpreters: which programs are interpreters, where the
// script is in their argv (each interpreter's own options read as it reads
// them), the default match a command gives, and matching processes by their
// script or by a long name's first 15 characters (synthetic processes).
import type { ProcessSample, ProcessSnapshot, ProcessSource } from "../../daemon/proc/types.js";
import { describe, expect, it } from "vitest";
import { isInterpreter, programName, scriptOf } from "../../daemon/proc/interpreters.js";
import { findMatching } from "../../daemon/proc/match.js";
import { normalisePolicy, RawPolicySchema } from "../../daemon/config/schema.js";
import { sample, snapshotOf } from "./helpers.js";
import { FAKE_SELF_PID } from "../helpers/fakes.js";

/** Processes with their argv and executable, as /proc would give them. */
class TableSource implements ProcessSource {
  readonly selfPid = FAKE_SELF_PID;
  private readonly snapshot: ProcessSnapshot;
  constructor(private readonly table: Array<{ sample: ProcessSample; argv: string[] | null; exe: string | null }>) {
    this.snapshot = snapshotOf(table.map((row) => row.sample));
  }
  scan(): ProcessSnapshot {
    return this.snapshot;
  }
  readCmdline(pid: number): string[] | null {
    return this.table.find((row) => row.sample.pid === pid)?.argv ?? null;
  }
  readExeName(pid: number): string | null {
    return this.table.find((row) => row.sample.pid === pid)?.exe ?? null;
  }
}

// One process: pid, comm, argv and exe name (null: unreadable).
const proc = (pid: number, comm: string, argv: string[] | null, exe: string | null) => ({ sample: sample({ pid, comm, startTicks: pid }), argv, exe });

describe("isInterpreter", () => {
  it("knows shells, python, node, perl, ruby and the like, versioned names and paths included", () => {
    for (const name of ["sh", "bash", "dash", "zsh", "/bin/bash", "python3", "python3.11", "/usr/bin/python", "pypy3", "node", "nodejs", "perl", "perl5.36.0", "ruby", "ruby3.1", "lua5.4", "php8.2", "gjs", "Rscript"]) {
      expect(isInterpreter(name), name).toBe(true);
    }
    for (const name of ["gedit", "sleep", "python-argcomplete-tcsh", "bashful", "nodeserver", "env"]) expect(isInterpreter(name), name).toBe(false);
  });
});

describe("scriptOf", () => {
  it("takes the first argument that is not an option", () => {
    expect(scriptOf("/bin/bash", ["/home/u/bin/a-rather-long-named-worker.sh"])).toBe("/home/u/bin/a-rather-long-named-worker.sh");
    expect(scriptOf("python3", ["-u", "-W", "ignore", "-X", "dev", "app.py", "--port", "8000"])).toBe("app.py");
    expect(scriptOf("node", ["--max-old-space-size=512", "-r", "dotenv/config", "--require", "ts-node/register", "server.js"])).toBe("server.js");
    expect(scriptOf("node", ["--env-file=.env", "--inspect", "server.js"])).toBe("server.js");
    expect(scriptOf("perl", ["-w", "-Ilib", "-Mstrict", "tool.pl"])).toBe("tool.pl");
    expect(scriptOf("bash", ["-e", "-o", "pipefail", "+x", "deploy.sh", "-c"])).toBe("deploy.sh");
    expect(scriptOf("ruby", ["-I", "lib", "-rjson", "app.rb"])).toBe("app.rb");
    expect(scriptOf("python3", ["--", "-weird-name.py"])).toBe("-weird-name.py");
  });

  it("names the module or file an option runs (python -m, php -f)", () => {
    expect(scriptOf("python3", ["-m", "http.server", "8000"])).toBe("http.server");
    expect(scriptOf("python3", ["-um", "http.server"])).toBe("http.server");
    expect(scriptOf("php", ["-f", "index.php"])).toBe("index.php");
  });

  it("finds none for inline code, stdin, or a bare interpreter", () => {
    expect(scriptOf("bash", ["-c", "sleep 600; true"])).toBeNull();
    expect(scriptOf("sh", ["-ec", "exec app"])).toBeNull();
    expect(scriptOf("bash", ["-s", "arg"])).toBeNull();
    expect(scriptOf("python3", ["-c", "import time"])).toBeNull();
    expect(scriptOf("python3", ["-"])).toBeNull();
    expect(scriptOf("node", ["-e", "setTimeout(() => {}, 1000)"])).toBeNull();
    expect(scriptOf("node", ["--eval", "1"])).toBeNull();
    expect(scriptOf("perl", ["-wle", "print 1"])).toBeNull();
    expect(scriptOf("bash", [])).toBeNull();
    expect(scriptOf("gedit", ["file.txt"])).toBeNull();
  });
});

describe("programName: a command's default match", () => {
  it("is the script's basename when the command runs an interpreter, else the program's", () => {
    expect(programName(["python3", "app.py"])).toBe("app.py");
    expect(programName(["/usr/bin/node", "/srv/api/server.js", "--port", "80"])).toBe("server.js");
    expect(programName(["/usr/bin/env", "LANG=C", "python3", "-u", "app.py"])).toBe("app.py");
    expect(programName(["/home/u/bin/a-rather-long-named-worker.sh"])).toBe("a-rather-long-named-worker.sh");
    expect(programName(["sh", "-c", "exec app"])).toBe("sh");
    expect(programName(["gedit", "--new-window"])).toBe("gedit");
  });

  it("is what config.toml's match defaults to", () => {
    const policy = (command: string[]) => normalisePolicy("p", RawPolicySchema.parse({ command }));
    expect(policy(["python3", "app.py"]).match).toBe("app.py");
    expect(policy(["node", "server.js"]).match).toBe("server.js");
    expect(policy(["/usr/bin/gedit"]).match).toBe("gedit");
    expect(normalisePolicy("p", RawPolicySchema.parse({ command: ["python3", "app.py"], match: "/app/" })).match).toBe("/app/");
  });
});

describe("matching by script and by a long name's first 15 characters", () => {
  const table = [
    proc(10, "a-rather-long-n", ["/bin/bash", "/home/u/bin/a-rather-long-named-worker.sh"], "bash"),
    proc(11, "python3", ["python3", "/home/u/bin/tick.py"], "python3.11"),
    proc(12, "python3", ["/usr/bin/python3", "app.py"], "python3.11"),
    proc(13, "node", ["node", "server.js"], "node"),
    // Unrelated processes of the same interpreters.
    proc(20, "python3", ["python3", "other.py"], "python3.11"),
    proc(21, "python3", ["python3", "-c", "app.py"], "python3.11"),
    proc(22, "node", ["node", "-e", "require('./server.js')"], "node"),
    proc(23, "bash", ["bash", "-c", "sleep 600; true"], "bash"),
    proc(24, "a-rather-long-n", ["/bin/bash", "/home/u/bin/a-rather-long-named-other.sh"], "bash"),
    // A program that is no interpreter, whose arguments look like scripts.
    proc(25, "editor", ["editor", "app.py"], "editor"),
    // A long-named script that rewrote its argv; its exe cannot be read.
    proc(30, "a-rather-long-n", ["worker: idle"], null),
    // Long binaries sharing the first 15 characters.
    proc(40, "a-very-long-bin", ["./a-very-long-binary-name-sleeper", "600"], "a-very-long-binary-name-sleeper"),
    proc(41, "a-very-long-bin", ["a-very-long-binary-name-other", "600"], "a-very-long-binary-name-other"),
  ];
  const source = new TableSource(table);
  const pids = (name: string) => findMatching(name, source.scan(), source).map((s) => s.pid);

  it("a script run by an interpreter is found by its name, never an unrelated process of that interpreter", () => {
    expect(pids("app.py")).toEqual([12]);
    expect(pids("server.js")).toEqual([13]);
    expect(pids("tick.py")).toEqual([11]);
    expect(pids("other.py")).toEqual([20]);
  });

  it("a long name is found by comm's 15 characters only when nothing the process tells names another program", () => {
    expect(pids("a-rather-long-named-worker.sh")).toEqual([10, 30]);
    expect(pids("a-rather-long-named-other.sh")).toEqual([24, 30]);
    expect(pids("a-very-long-binary-name-sleeper")).toEqual([40]);
    expect(pids("a-very-long-binary-name-other")).toEqual([41]);
    expect(pids("a-very-long-binary-name")).toEqual([]);
  });
});
