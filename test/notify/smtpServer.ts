// A real SMTP server for the tests (the smtp-server package) on 127.0.0.1 and
// a random port: no TLS, no login unless one is asked for, every mail kept with its envelope.
import type { AddressInfo } from "node:net";

import { SMTPServer } from "smtp-server";

import { waitForCount, waitForMatch } from "./shared.js";

export interface ReceivedMail {
  from: string;
  to: string[];
  subject: string;
  text: string;
  raw: string;
  /** The login the mail came in under, when the server asked for one. */
  user: string | null;
}

/** A login the server requires (AUTH PLAIN/LOGIN over plain TCP, as this is a test). */
export interface SmtpLogin {
  user: string;
  pass: string;
}

export interface TestSmtpServer {
  port: number;
  mails: ReceivedMail[];
  /** Every login tried, accepted or not. */
  logins: SmtpLogin[];
  /** Resolves once `count` mails in all have arrived. */
  waitForMails(count: number, timeoutMs?: number): Promise<ReceivedMail[]>;
  /** Resolves with the first mail that matches. */
  waitForMail(match: (mail: ReceivedMail) => boolean, timeoutMs?: number): Promise<ReceivedMail>;
  close(): Promise<void>;
}

// Unfold the headers of a raw message and take one.
function header(raw: string, name: string): string {
  const head = raw.split(/\r?\n\r?\n/)[0] ?? "";
  const unfolded = head.replace(/\r?\n[ \t]+/g, " ");
  const line = unfolded.split(/\r?\n/).find((l) => l.toLowerCase().startsWith(`${name.toLowerCase()}:`));
  return line === undefined ? "" : line.slice(name.length + 1).trim();
}

// The body of a raw message, quoted-printable soft breaks undone.
function body(raw: string): string {
  const text = raw.split(/\r?\n\r?\n/).slice(1).join("\n\n");
  return text.replace(/=\r?\n/g, "").replace(/=([0-9A-F]{2})/g, (_, hex: string) => String.fromCharCode(parseInt(hex, 16))).replace(/\r\n/g, "\n");
}

// Start a server; `port` 0 picks a free one; with `login`, mail is accepted only after that login.
export async function startSmtpServer(port = 0, login: SmtpLogin | null = null): Promise<TestSmtpServer> {
  const mails: ReceivedMail[] = [];
  const logins: SmtpLogin[] = [];
  const server = new SMTPServer({
    secure: false,
    authOptional: login === null,
    allowInsecureAuth: true,
    authMethods: ["PLAIN", "LOGIN"],
    disabledCommands: login === null ? ["STARTTLS", "AUTH"] : ["STARTTLS"],
    onAuth(auth, _session, callback) {
      logins.push({ user: auth.username ?? "", pass: auth.password ?? "" });
      if (login !== null && auth.username === login.user && auth.password === login.pass) callback(null, { user: auth.username });
      else callback(new Error("Invalid username or password"));
    },
    logger: false,
    // A pooled client connection may still be open at the end of a test: do not wait 30 s for it.
    closeTimeout: 200,
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on("data", (chunk: Buffer) => chunks.push(chunk));
      stream.on("end", () => {
        const raw = Buffer.concat(chunks).toString("utf8");
        mails.push({
          from: session.envelope.mailFrom === false ? "" : session.envelope.mailFrom.address,
          to: session.envelope.rcptTo.map((rcpt) => rcpt.address),
          subject: header(raw, "Subject"),
          text: body(raw),
          raw,
          user: typeof session.user === "string" ? session.user : null,
        });
        callback();
      });
    },
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", () => resolve());
  });
  server.on("error", () => undefined);
  const address = (server as unknown as { server: { address(): AddressInfo } }).server.address();
  return {
    port: address.port,
    mails,
    logins,
    waitForMails: (count, timeoutMs = 15_000) =>
      waitForCount(mails, count, timeoutMs, 20, () => `expected ${count} mails within ${timeoutMs} ms, got ${mails.length}: ${mails.map((m) => m.subject).join(" | ")}`),
    waitForMail: (match, timeoutMs = 15_000) =>
      waitForMatch(mails, match, timeoutMs, 20, () => `no matching mail within ${timeoutMs} ms; got: ${mails.map((m) => m.subject).join(" | ")}`),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

// A port nothing listens on (bound for a moment, then released).
export async function closedPort(): Promise<number> {
  const probe = await startSmtpServer();
  await probe.close();
  return probe.port;
}
