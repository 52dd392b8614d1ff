// How severities and alert states look, and how an alert is described in one
// line: shared by the Alerts page and the Overview card.
import type { Alert } from '../../lib/bindings/Alert';
import type { Severity } from '../../lib/bindings/Severity';

/** Tailwind classes of a severity's badge: P1 loudest, P4 quiet. */
export const SEVERITY_STYLE: Record<Severity, string> = {
  P1: 'bg-bad text-accent-ink',
  P2: 'bg-bad-soft text-bad',
  P3: 'bg-warn-soft text-warn',
  P4: 'bg-unknown-soft text-unknown',
};

/** What each severity asks of people. */
export const SEVERITY_MEANING: Record<Severity, string> = {
  P1: 'Critical: users are hurt now; page someone.',
  P2: 'High: will hurt users soon; act within the hour.',
  P3: 'Medium: needs attention today.',
  P4: 'Low: for the next working day.',
};

/** An alert's labels other than the ones every alert has. */
export function extraLabels(alert: Alert): [string, string][] {
  return Object.entries(alert.labels).filter(([name]) => name !== 'alertname' && name !== 'severity');
}

/** A silence selector covering this alert: its name and service. */
export function silenceSelector(alert: Alert): string {
  const parts = [`alertname="${alert.rule}"`];
  const service = alert.labels.service ?? alert.labels.job;
  if (service) parts.push(`${alert.labels.service ? 'service' : 'job'}="${service}"`);
  return `{${parts.join(', ')}}`;
}

/** Firing alerts counted by severity. */
export function firingBySeverity(alerts: Alert[]): Record<Severity, number> {
  const counts: Record<Severity, number> = { P1: 0, P2: 0, P3: 0, P4: 0 };
  for (const alert of alerts) if (alert.state === 'firing') counts[alert.severity] += 1;
  return counts;
}

/** An expression's value for people: whole numbers as they are, others to four significant digits. */
export function formatValue(value: number): string {
  if (!Number.isFinite(value) || Number.isInteger(value)) return String(value);
  return String(Number(value.toPrecision(4)));
}
