// The interface XML is part of the built daemon: a copy of dist/selfheal.js
// (and its chunks) alone in a folder (no dbus/ beside it, nothing in the XDG data folders)
// serves the Manager interface exactly as dbus/io.github.SelfHeal1.Manager.xml defines it.
import { mkdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { parseInterfaceXml, renderInterface } from "../../daemon/bus/introspection.js";
import { copyBuiltDaemon } from "../helpers/command.js";
import { connectClient, INTERFACE_XML, makeTempDir, MANAGER_INTERFACE, plain, startPrivateBus, startSelfheal } from "../helpers/bus.js";

const root = makeTempDir("embedded");
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe("the interface XML built in", () => {
  it("a copy of the built daemon alone in a folder serves the Manager interface of dbus/", async () => {
    const bare = join(root, "bin");
    const emptyShare = join(root, "share");
    mkdirSync(bare);
    mkdirSync(emptyShare);
    const copy = copyBuiltDaemon(bare);
    const bus = await startPrivateBus();
    const daemon = await startSelfheal(bus, { root, daemonFile: copy, env: { XDG_DATA_HOME: emptyShare, XDG_DATA_DIRS: emptyShare } });
    const client = await connectClient(bus);
    try {
      const [xml] = (await client.callOn("org.freedesktop.DBus.Introspectable", "Introspect")) as [string];
      expect(xml).toContain(renderInterface(parseInterfaceXml(readFileSync(INTERFACE_XML, "utf8"), MANAGER_INTERFACE)));
      expect(plain((await client.call("ListProcesses"))[0])).toEqual([]);
    } finally {
      client.close();
      await daemon.cleanup();
      await bus.stop();
    }
  });
});
