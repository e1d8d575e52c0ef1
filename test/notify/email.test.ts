// The mailer against a real SMTP server (smtp-server on 127.0.0.1, a random
// port): subjects, recipients, bodies, the rate limit and its digest, a dead
// server that never holds up the engine, and settings changed while running.
// The clock is a fake one so windows and retries move only when told; the
// mail itself really goes over TCP.
import type { EmailSettings } from "../../daemon/config/policy.js";
import type { EngineEvent } from "../../daemon/engine/events.js";

import { createServer, type Socket } from "node:net";

import { describe, expect, it } from "vitest";

import { EventHub } from "../../daemon/engine/events.js";
import { EmailNotifier, type SmtpTimeouts } from "../../daemon/notify/email.js";
import { MailQueue } from "../../daemon/notify/mailQueue.js";
import { FakeClock } from "../helpers/fakes.js";
import { closedPort, startSmtpServer, type TestSmtpServer } from "./smtpServer.js";
import { cleanupsAfterEach, crashed } from "./shared.js";

const MINUTE = 60_000;

function settings(port: number, extra: Partial<EmailSettings> = {}): EmailSettings {
  return {
    enabled: true,
    smtpHost: "127.0.0.1",
    smtpPort: port,
    from: "selfheal@example.org",
    to: ["me@example.org", "ops@example.org"],
    username: null,
    password: null,
    passwordCommand: null,
    implicitTls: false,
    starttls: null,
    rateLimitMinutes: 15,
    ...extra,
  };
}

const cleanups = cleanupsAfterEach();

async function server(port = 0): Promise<TestSmtpServer> {
  const smtp = await startSmtpServer(port);
  cleanups.push(() => smtp.close());
  return smtp;
}

function notifier(settingsValue: EmailSettings | null, extra: { retryDelaysMs?: number[]; smtpTimeouts?: SmtpTimeouts } = {}) {
  const clock = new FakeClock(Date.now());
  const log: string[] = [];
  const mailer = new EmailNotifier(settingsValue, { clock, host: "testhost", log: (line) => log.push(line), ...extra });
  cleanups.push(() => mailer.stop());
  return { clock, log, mailer };
}

describe("EmailNotifier over SMTP", () => {
  it("mails a crash with the original subject to every recipient, with what, when, PID and what was done", async () => {
    const smtp = await server();
    const { clock, mailer } = notifier(settings(smtp.port));
    mailer.handle(crashed("gedit", 4242, clock.now()));
    const [mail] = await smtp.waitForMails(1);
    expect(mail!.subject).toBe("[Self-Healing Monitor] Process Crash: gedit");
    expect(mail!.from).toBe("selfheal@example.org");
    expect(mail!.to).toEqual(["me@example.org", "ops@example.org"]);
    expect(mail!.raw).toMatch(/^Content-Type: text\/plain/im);
    expect(mail!.text).toContain("Process Crash on testhost.");
    expect(mail!.text).toMatch(/PID: +4242/);
    expect(mail!.text).toMatch(/How it ended: +killed by SIGSEGV/);
    expect(mail!.text).toContain("gedit (PID 4242) was killed by SIGSEGV; restarting it");
    expect(mail!.text).toMatch(/What selfheal did: +restarting it/);
    expect(mail!.text).toMatch(/When: +\d{4}-\d\d-\d\d \d\d:\d\d:\d\d [+-]\d\d:\d\d/);
  });

  it("mails each kind worth telling under its own subject, and nothing for routine events", async () => {
    const smtp = await server();
    const { clock, mailer } = notifier(settings(smtp.port));
    const t = clock.now();
    const events: EngineEvent[] = [
      { kind: "started", timeMs: t, name: "gedit", pid: 1, reason: "autostart", message: "started" },
      { kind: "cooldown-started", timeMs: t, name: "gedit", restarts: 5, seconds: 120, untilMs: t + 120_000, message: "gedit restarted 5 times" },
      { kind: "start-failed", timeMs: t, name: "ghost", error: "spawn ghost ENOENT", message: "ghost: spawn ghost ENOENT" },
      { kind: "violation", timeMs: t, name: "gedit", pid: 7, resource: "memory", value: 300 * 1024 * 1024, limit: 200 * 1024 * 1024, action: "restart", message: "gedit used too much" },
      { kind: "violation", timeMs: t, name: "gedit", pid: 7, resource: "cpu", value: 95, limit: 80, action: "notify", message: "gedit used too much CPU" },
      { kind: "anomaly", timeMs: t, name: "leaky", pid: 8, type: "memory_leak", detail: "RSS grew 5 MB/s", action: "notified", figures: {}, message: "leak" },
      { kind: "anomaly", timeMs: t, name: "bomb", pid: 9, type: "fork_bomb", detail: "200 descendants", action: "contained 200 processes", figures: {}, message: "bomb" },
      { kind: "anomaly", timeMs: t, name: "spiky", pid: 10, type: "cpu_spike", detail: "99% over 5%", action: "notified", figures: {}, message: "spike" },
      { kind: "zombies-detected", timeMs: t, count: 2, newPids: [11, 12], message: "2 zombies, too few to tell" },
      { kind: "zombies-detected", timeMs: t, count: 6, newPids: [], message: "still 6 zombies, none new" },
      { kind: "zombies-detected", timeMs: t, count: 6, newPids: [11, 12, 13, 14], message: "6 zombies" },
      { kind: "stopped", timeMs: t, name: "gedit", pid: 1, forced: false, message: "stopped" },
    ];
    for (const event of events) mailer.handle(event);
    await mailer.outbox.idle();
    expect(smtp.mails.map((m) => m.subject).sort()).toEqual(
      [
        "[Self-Healing Monitor] Restart Loop: gedit",
        "[Self-Healing Monitor] Start Failure: ghost",
        "[Self-Healing Monitor] Memory Limit Exceeded: gedit",
        "[Self-Healing Monitor] CPU Limit Exceeded: gedit",
        "[Self-Healing Monitor] Memory Leak Detected: leaky",
        "[Self-Healing Monitor] Fork Bomb Detected: bomb",
        "[Self-Healing Monitor] CPU Spike Detected: spiky",
        "[Self-Healing Monitor] Zombie Processes: zombies",
      ].sort(),
    );
    const memory = smtp.mails.find((m) => m.subject.includes("Memory Limit"))!;
    expect(memory.text).toMatch(/Measured: +300\.0 MB/);
    expect(memory.text).toMatch(/What selfheal did: +restarted it/);
    const zombies = smtp.mails.find((m) => m.subject.includes("Zombie"))!;
    expect(zombies.text).toMatch(/Zombies: +6\n/);
    expect(zombies.text).toMatch(/New PIDs: +11, 12, 13, 14\n/);
  });

  it("rate-limits per process and kind, then mails a digest of what was held back when the window ends", async () => {
    const smtp = await server();
    const { clock, mailer } = notifier(settings(smtp.port, { rateLimitMinutes: 15 }));
    mailer.handle(crashed("gedit", 100, clock.now()));
    clock.advance(MINUTE);
    for (const pid of [101, 102, 103]) mailer.handle(crashed("gedit", pid, clock.now()));
    mailer.handle(crashed("vim", 200, clock.now()));
    await mailer.outbox.idle();
    expect(smtp.mails.map((m) => m.subject)).toEqual([
      "[Self-Healing Monitor] Process Crash: gedit",
      "[Self-Healing Monitor] Process Crash: vim",
    ]);
    clock.advance(14 * MINUTE - 1);
    await mailer.outbox.idle();
    expect(smtp.mails).toHaveLength(2);
    clock.advance(1);
    const mails = await smtp.waitForMails(3);
    const digest = mails[2]!;
    expect(digest.subject).toBe("[Self-Healing Monitor] Process Crash: gedit (3 more suppressed)");
    expect(digest.text).toContain("3 more crashes of gedit were suppressed");
    for (const pid of [101, 102, 103]) expect(digest.text).toContain(`gedit (PID ${pid}) was killed by SIGSEGV`);
    expect(digest.text).not.toContain("PID 100)");
    expect(digest.to).toEqual(["me@example.org", "ops@example.org"]);
  });

  it("sends every alert when rate_limit_minutes is 0", async () => {
    const smtp = await server();
    const { clock, mailer } = notifier(settings(smtp.port, { rateLimitMinutes: 0 }));
    for (const pid of [1, 2, 3]) mailer.handle(crashed("gedit", pid, clock.now()));
    await smtp.waitForMails(3);
  });

  it("a dead SMTP server costs a logged error, never the engine's time; the mail goes out once the server is back", async () => {
    const port = await closedPort();
    const { clock, log, mailer } = notifier(settings(port, { rateLimitMinutes: 0 }), { retryDelaysMs: [5_000, 30_000] });
    const hub = new EventHub();
    hub.subscribe((event) => mailer.handle(event));
    let seen = 0;
    hub.subscribe(() => seen++);
    const started = performance.now();
    for (let pid = 1; pid <= 200; pid++) hub.emit(crashed("gedit", pid, clock.now()));
    // 200 events through the hub, none waiting for the network.
    expect(performance.now() - started).toBeLessThan(1_000);
    expect(seen).toBe(200);
    // The first attempt fails (connection refused) and is logged once; the rest wait behind it, bounded.
    await waitUntil(() => log.some((line) => line.includes("trying again")));
    expect(log).toContainEqual(expect.stringMatching(/^mail "\[Self-Healing Monitor\] Process Crash: gedit" not sent \(.*ECONNREFUSED.*\); trying again in 5 s$/));
    expect(mailer.outbox.size).toBe(100);
    expect(mailer.outbox.stats.dropped).toBe(100);
    expect(log.filter((line) => line.includes("outbox full"))).toHaveLength(1);
    // The server comes back on the same port; the retry sends everything waiting, in order.
    const smtp = await server(port);
    clock.advance(5_000);
    const mails = await smtp.waitForMails(100);
    // The one in flight when the outbox filled, then the newest 99.
    expect(mails[0]!.text).toContain("PID 1)");
    expect(mails[1]!.text).toContain("PID 102)");
    expect(mails[99]!.text).toContain("PID 200)");
    await mailer.outbox.idle();
    expect(log.filter((line) => line.includes("trying again"))).toHaveLength(1);
    expect(log).toContain("mail: the SMTP server accepts mail again");
    expect(log).toContain("mail: 100 mails were dropped while the outbox was full");
  });

  it("gives up on a server that accepts the connection but never speaks, by its greeting timeout, and retries", async () => {
    const sockets: Socket[] = [];
    const silent = createServer((socket) => void sockets.push(socket));
    await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
    cleanups.push(() => new Promise((resolve) => (sockets.forEach((s) => s.destroy()), silent.close(resolve))));
    const port = (silent.address() as { port: number }).port;
    const { clock, log, mailer } = notifier(settings(port), { retryDelaysMs: [5_000], smtpTimeouts: { connectionMs: 300, greetingMs: 300, socketMs: 300 } });
    const hub = new EventHub();
    hub.subscribe((event) => mailer.handle(event));
    const started = performance.now();
    hub.emit(crashed("gedit", 1, clock.now()));
    expect(performance.now() - started).toBeLessThan(100);
    await waitUntil(() => log.length > 0, 5_000);
    expect(sockets.length).toBeGreaterThan(0);
    expect(log[0]).toMatch(/not sent \(.*(Greeting never received|Timeout).*\); trying again in 5 s/i);
    expect(mailer.outbox.retrying).toBe(true);
  });

  it("drops a mail with a logged error once its retries are used up, and keeps going with the next", async () => {
    const port = await closedPort();
    const { clock, log, mailer } = notifier(settings(port, { rateLimitMinutes: 0 }), { retryDelaysMs: [1_000] });
    mailer.handle(crashed("gedit", 1, clock.now()));
    await waitUntil(() => log.length === 1);
    clock.advance(1_000);
    await waitUntil(() => log.length === 2);
    expect(log[1]).toMatch(/mail "\[Self-Healing Monitor\] Process Crash: gedit" not sent and dropped after 2 attempts/);
    const smtp = await server(port);
    mailer.handle(crashed("gedit", 2, clock.now()));
    const [mail] = await smtp.waitForMails(1);
    expect(mail!.text).toContain("PID 2)");
  });

  it("follows new settings at once: another server, enabled = false, no [email] at all", async () => {
    const first = await server();
    const second = await server();
    const { clock, mailer } = notifier(settings(first.port, { rateLimitMinutes: 0 }));
    mailer.handle(crashed("a", 1, clock.now()));
    await first.waitForMails(1);
    mailer.configure(settings(second.port, { rateLimitMinutes: 0, to: ["new@example.org"] }));
    mailer.handle(crashed("b", 2, clock.now()));
    const [mail] = await second.waitForMails(1);
    expect(mail!.to).toEqual(["new@example.org"]);
    mailer.configure(settings(second.port, { enabled: false }));
    mailer.handle(crashed("c", 3, clock.now()));
    mailer.configure(null);
    mailer.handle(crashed("d", 4, clock.now()));
    await mailer.outbox.idle();
    await new Promise((r) => setTimeout(r, 200));
    expect(first.mails).toHaveLength(1);
    expect(second.mails).toHaveLength(1);
  });
});

describe("MailQueue", () => {
  it("returns from push at once and holds at most maxSize mails, dropping the oldest waiting", () => {
    const log: string[] = [];
    const sent: string[] = [];
    const queue = new MailQueue({ clock: new FakeClock(), maxSize: 3, log: (l) => log.push(l), send: (mail) => (sent.push(mail.subject), new Promise(() => undefined)) });
    for (const subject of ["a", "b", "c", "d", "e"]) queue.push({ subject, text: "" });
    expect(sent).toEqual(["a"]);
    expect(queue.size).toBe(3);
    expect(log).toEqual(['mail outbox full (3 mails): dropping the oldest waiting mails, first "b"']);
    expect(queue.stats.dropped).toBe(2);
  });

  it("drops a mail the server refuses for good (5xx) without retrying", async () => {
    const log: string[] = [];
    let attempts = 0;
    const refusal = Object.assign(new Error("550 mailbox unavailable"), { responseCode: 550 });
    const queue = new MailQueue({ clock: new FakeClock(), log: (l) => log.push(l), send: async () => void (attempts++, (() => { throw refusal; })()) });
    queue.push({ subject: "x", text: "" });
    await queue.idle();
    expect(attempts).toBe(1);
    expect(queue.stats.dropped).toBe(1);
    expect(log[0]).toContain("dropped after 1 attempt: 550 mailbox unavailable");
  });
});

async function waitUntil(check: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 10));
  }
}
