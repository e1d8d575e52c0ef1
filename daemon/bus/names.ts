// The names other programs depend on (fixed by the D-Bus contract) and the
// standard D-Bus names the service answers with.

/** The well-known name the daemon owns on the session bus. */
export const BUS_NAME = "io.github.SelfHeal1";
/** The one object the daemon exports. */
export const OBJECT_PATH = "/io/github/SelfHeal1";
/** The main interface, defined by dbus/io.github.SelfHeal1.Manager.xml. */
export const MANAGER_INTERFACE = "io.github.SelfHeal1.Manager";
/** Our errors are `io.github.SelfHeal1.Error.<Name>`. */
export const ERROR_PREFIX = "io.github.SelfHeal1.Error.";
/** The interface XML's file name, wherever it is installed. */
export const INTERFACE_FILE = "io.github.SelfHeal1.Manager.xml";

export const DBUS_ERRORS = {
  invalidArgs: "org.freedesktop.DBus.Error.InvalidArgs",
  unknownMethod: "org.freedesktop.DBus.Error.UnknownMethod",
  unknownObject: "org.freedesktop.DBus.Error.UnknownObject",
  unknownInterface: "org.freedesktop.DBus.Error.UnknownInterface",
  unknownProperty: "org.freedesktop.DBus.Error.UnknownProperty",
  propertyReadOnly: "org.freedesktop.DBus.Error.PropertyReadOnly",
  serviceUnknown: "org.freedesktop.DBus.Error.ServiceUnknown",
  nameHasNoOwner: "org.freedesktop.DBus.Error.NameHasNoOwner",
  noReply: "org.freedesktop.DBus.Error.NoReply",
} as const;

export const STANDARD_INTERFACES = {
  introspectable: "org.freedesktop.DBus.Introspectable",
  properties: "org.freedesktop.DBus.Properties",
  peer: "org.freedesktop.DBus.Peer",
} as const;

/** RequestName flag: fail rather than wait in the queue for the name. */
export const NAME_FLAG_DO_NOT_QUEUE = 0x4;
/** RequestName replies. */
export const REQUEST_NAME_REPLY = { primaryOwner: 1, inQueue: 2, exists: 3, alreadyOwner: 4 } as const;
