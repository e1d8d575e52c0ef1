// The words of alerts and digests: plain-text mail bodies and desktop
// notification texts, built from an Alert alone.
import { ALERT_KINDS, formatTime, subjectOf, type Alert } from "./alerts.js";
import type { Digest } from "./throttle.js";
import type { OutgoingMail } from "./mailQueue.js";
import type { PolicyApp } from "../config/policy.js";

const SIGNATURE = "-- \nselfheal, the self-healing process manager. Its event history: `selfheal events`.";

// The label-value lines of an alert, aligned.
function factLines(alert: Alert): string[] {
  const rows: Array<[string, string]> = [
    ["Process", alert.name],
    ["When", formatTime(alert.timeMs)],
    ["PID", alert.pid === null ? "-" : String(alert.pid)],
    ...alert.facts,
    ["What happened", alert.message],
    ["What selfheal did", alert.action],
  ];
  const width = Math.max(...rows.map(([label]) => label.length)) + 1;
  return rows.map(([label, value]) => `${`${label}:`.padEnd(width)} ${value}`);
}

// The mail of one alert.
export function alertMail(alert: Alert, host: string): OutgoingMail {
  const info = ALERT_KINDS[alert.kind];
  return {
    subject: subjectOf(alert),
    text: [`${info.title} on ${host}.`, "", ...factLines(alert), "", SIGNATURE, ""].join("\n"),
  };
}

// The first line of a digest: "3 more crashes of gedit were suppressed".
export function digestHeadline(digest: Digest<Alert>): string {
  const first = digest.items[0];
  if (first === undefined) return `${digest.count} more alerts were suppressed`;
  const info = ALERT_KINDS[first.kind];
  return `${digest.count} more ${digest.count === 1 ? info.one : info.plural} of ${first.name} ${digest.count === 1 ? "was" : "were"} suppressed`;
}

// The mail that summarises what a rate-limit window held back.
export function digestMail(digest: Digest<Alert>, host: string): OutgoingMail {
  const first = digest.items[0]!;
  const minutes = Math.max(1, Math.round((digest.windowEndMs - digest.windowStartMs) / 60_000));
  const listed = digest.items.map((alert) => `- ${formatTime(alert.timeMs)}: ${alert.message} (${alert.action})`);
  const unlisted = digest.count - digest.items.length;
  return {
    subject: `${subjectOf(first)} (${digest.count} more suppressed)`,
    text: [
      `${digestHeadline(digest)} on ${host} between ${formatTime(digest.windowStartMs)} and ${formatTime(digest.windowEndMs)}`,
      `(at most one mail per process and kind every ${minutes} min):`,
      "",
      ...listed,
      ...(unlisted > 0 ? [`- and ${unlisted} more`] : []),
      "",
      SIGNATURE,
      "",
    ].join("\n"),
  };
}

/** A desktop notification's texts, and its icon. */
export interface DesktopText {
  summary: string;
  body: string;
  /** The app's icon, for an app policy's alert. */
  icon?: string;
}

// The summary's subject and the icon: an app policy's alert names the app as the desktop does
// ("Text Editor") and shows its icon; any other names the policy.
function desktopSubject(name: string, app: PolicyApp | undefined): { subject: string; icon?: string } {
  if (app === undefined) return { subject: name };
  return { subject: app.name === "" ? name : app.name, ...(app.icon === "" ? {} : { icon: app.icon }) };
}

// The desktop notification of one alert: the summary names the kind and the program, the body
// what happened and what selfheal did, each once (most events' messages end with the latter).
export function alertNotification(alert: Alert, app?: PolicyApp): DesktopText {
  const info = ALERT_KINDS[alert.kind];
  const { subject, ...icon } = desktopSubject(alert.name, app);
  return { summary: `${info.title}: ${subject}`, body: info.messageSaysAction ? alert.message : `${alert.message}\n${capitalise(alert.action)}.`, ...icon };
}

// The desktop notification summarising held-back alerts.
export function digestNotification(digest: Digest<Alert>, app?: PolicyApp): DesktopText {
  const first = digest.items[0]!;
  const last = digest.items[digest.items.length - 1]!;
  const { subject, ...icon } = desktopSubject(first.name, app);
  return { summary: `${ALERT_KINDS[first.kind].title}: ${subject}`, body: `${digestHeadline(digest)}; the last: ${last.message}`, ...icon };
}

function capitalise(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
