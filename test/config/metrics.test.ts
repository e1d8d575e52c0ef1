// [metrics]: absent means nothing; present, a loopback endpoint by default; listen
// and textfile are checked with errors that name the line, the key and the fix.
import { describe, expect, it } from "vitest";

import { parseConfig } from "../../daemon/config/load.js";
import { problemsOf } from "../helpers/config.js";

describe("[metrics]", () => {
  it("is off when the section is absent", () => {
    expect(parseConfig("[settings]\ninterval = 1\n", "config.toml").metrics).toBeNull();
  });

  it("serves on 127.0.0.1:9464 when the section is empty", () => {
    expect(parseConfig("[metrics]\n", "config.toml").metrics).toEqual({ listen: { host: "127.0.0.1", port: 9464 }, textfile: null });
  });

  it("writes only the textfile when only a textfile is given, and both when both are", () => {
    expect(parseConfig('[metrics]\ntextfile = "/var/lib/node_exporter/textfile/selfheal.prom"\n', "config.toml").metrics).toEqual({
      listen: null,
      textfile: "/var/lib/node_exporter/textfile/selfheal.prom",
    });
    expect(parseConfig('[metrics]\nlisten = "[::1]:9100"\ntextfile = "/tmp/selfheal.prom"\n', "config.toml").metrics).toEqual({
      listen: { host: "::1", port: 9100 },
      textfile: "/tmp/selfheal.prom",
    });
  });

  it("takes any address the user writes, loopback or not", () => {
    expect(parseConfig('[metrics]\nlisten = "0.0.0.0:9464"\n', "config.toml").metrics?.listen).toEqual({ host: "0.0.0.0", port: 9464 });
    expect(parseConfig('[metrics]\nlisten = "localhost:9464"\n', "config.toml").metrics?.listen).toEqual({ host: "localhost", port: 9464 });
    expect(parseConfig('[metrics]\nlisten = "[::]:1"\n', "config.toml").metrics?.listen).toEqual({ host: "::", port: 1 });
  });

  it.each([
    ["9464", 'expected ADDRESS:PORT, such as "127.0.0.1:9464" (this machine only) or "[::1]:9464", got "9464" (string)'],
    ["example.org:9464", '"example.org" is not an IP address; write the address to listen on: 127.0.0.1 (this machine only), or the address of one network interface, got "example.org:9464" (string)'],
    ["300.1.1.1:9464", '"300.1.1.1" is not an IP address; write the address to listen on: 127.0.0.1 (this machine only), or the address of one network interface, got "300.1.1.1:9464" (string)'],
    ["::1:9464", 'an IPv6 address goes in brackets: "[::1]:9464", got "::1:9464" (string)'],
    ["127.0.0.1:0", 'the port must be a whole number from 1 to 65535, got "127.0.0.1:0" (string)'],
    ["127.0.0.1:65536", 'the port must be a whole number from 1 to 65535, got "127.0.0.1:65536" (string)'],
    ["127.0.0.1:94x", 'the port must be a whole number from 1 to 65535, got "127.0.0.1:94x" (string)'],
    ["127.0.0.1:", 'the port must be a whole number from 1 to 65535, got "127.0.0.1:" (string)'],
  ])("refuses listen = %j with the line, the key and why", (listen, message) => {
    expect(problemsOf(`[metrics]\nlisten = "${listen}"\n`)).toEqual([[2, "metrics.listen", message]]);
  });

  it("refuses a textfile that node_exporter would not read, and unknown keys", () => {
    expect(problemsOf('[metrics]\ntextfile = "selfheal.prom"\n')).toEqual([[2, "metrics.textfile", 'expected an absolute path, got "selfheal.prom" (string)']]);
    expect(problemsOf('[metrics]\ntextfile = "/tmp/selfheal.txt"\n')).toEqual([
      [2, "metrics.textfile", 'expected a file name ending in ".prom" (node_exporter\'s textfile collector reads only those), got "/tmp/selfheal.txt" (string)'],
    ]);
    expect(problemsOf("[metrics]\nport = 9464\n")[0]?.slice(0, 2)).toEqual([2, "metrics.port"]);
  });
});
