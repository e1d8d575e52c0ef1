// What the build gives dbus-next in place of xml2js (build.mjs), so that the
// XML libraries (xml2js, xmlbuilder, sax: 218 KiB of source V8 would keep) stay
// out of the daemon. dbus-next uses them for two things selfheal never asks of
// it: Introspect replies for objects exported with bus.export() (the daemon's
// own handler answers every method call, Introspect included, from the
// interface XML built into it: service.ts, introspection.ts) and proxy objects
// (bus.getProxyObject(); selfheal's client makes its calls itself: client.ts).
// MessageBus builds a Builder for every bus, so constructing one must work.

const WHY = "selfheal's build leaves dbus-next's XML library (xml2js) out: the daemon answers Introspect itself and makes no proxy objects";

/** Stands in for xml2js.Builder: constructed by every MessageBus, never used. */
export class Builder {
  buildObject(): never {
    throw new Error(`${WHY} (xml2js.Builder.buildObject was called)`);
  }
}

/** Stands in for xml2js.Parser: only bus.getProxyObject() makes one. */
export class Parser {
  constructor() {
    throw new Error(`${WHY} (bus.getProxyObject needs xml2js.Parser)`);
  }
}
