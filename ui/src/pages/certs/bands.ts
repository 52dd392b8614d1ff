// How a certificate is shown in the table: its colour band by days left, the
// filters, and the soonest-expiry-first order. Pure functions, tested alone.

import type { CertRecord } from '../../lib/api';

/** `expired` and `critical` (< 7 days) red, `warning` (< 30 days) amber, `ok` green, `pending` grey. */
export type Band = 'expired' | 'critical' | 'warning' | 'ok' | 'pending';

export function bandOf(cert: Pick<CertRecord, 'not_after' | 'days_left' | 'state'>): Band {
  if (cert.state === 'revoked') return 'pending';
  if (cert.not_after === 0) return cert.state === 'failed' ? 'critical' : 'pending';
  if (cert.state === 'expired' || cert.days_left < 0) return 'expired';
  if (cert.days_left < 7) return 'critical';
  if (cert.days_left < 30) return 'warning';
  return 'ok';
}

/** The status-badge colour of a band. */
export function bandStatus(band: Band): 'ok' | 'attention' | 'failing' | 'unknown' {
  switch (band) {
    case 'ok':
      return 'ok';
    case 'warning':
      return 'attention';
    case 'pending':
      return 'unknown';
    default:
      return 'failing';
  }
}

/** "12 days", "today", "expired 3 days ago", "—" before issuance. */
export function daysLabel(cert: Pick<CertRecord, 'not_after' | 'days_left'>): string {
  if (cert.not_after === 0) return '—';
  if (cert.days_left < 0) {
    const ago = -cert.days_left;
    return `expired ${ago} day${ago === 1 ? '' : 's'} ago`;
  }
  if (cert.days_left === 0) return 'today';
  return `${cert.days_left} day${cert.days_left === 1 ? '' : 's'}`;
}

/** The table's badge text: days left while in use, else the state (and days). */
export function stateLabel(cert: Pick<CertRecord, 'not_after' | 'days_left' | 'state'>): string {
  if (cert.state === 'active' || cert.state === 'expired') return daysLabel(cert);
  if (cert.not_after === 0) return cert.state;
  return `${cert.state} · ${daysLabel(cert)}`;
}

export type CertFilter = 'all' | 'attention' | 'managed' | 'imported' | 'endpoints';

export const FILTERS: { id: CertFilter; label: string }[] = [
  { id: 'all', label: 'All' },
  { id: 'attention', label: 'Needs attention' },
  { id: 'managed', label: 'Issued here' },
  { id: 'imported', label: 'Files' },
  { id: 'endpoints', label: 'Endpoints' },
];

/** Certificates matching the filter and the search text (names, subject, issuer, id). */
export function filterCerts(certs: CertRecord[], filter: CertFilter, search: string): CertRecord[] {
  const needle = search.trim().toLowerCase();
  return certs.filter((cert) => {
    const band = bandOf(cert);
    const keep =
      filter === 'all' ||
      (filter === 'attention' &&
        (band !== 'ok' || cert.chain_status === 'untrusted' || cert.chain_status === 'invalid' || cert.last_error !== null) &&
        cert.state !== 'revoked') ||
      (filter === 'managed' && cert.source === 'acme') ||
      (filter === 'imported' && cert.source === 'file') ||
      (filter === 'endpoints' && cert.source === 'endpoint');
    if (!keep) return false;
    if (!needle) return true;
    return [cert.id, cert.subject, cert.issuer, ...cert.sans].some((text) => text.toLowerCase().includes(needle));
  });
}

/** Soonest expiry first; not-yet-issued last. */
export function sortByDaysLeft(certs: CertRecord[]): CertRecord[] {
  return [...certs].sort((a, b) => {
    if ((a.not_after === 0) !== (b.not_after === 0)) return a.not_after === 0 ? 1 : -1;
    return a.not_after - b.not_after || a.id.localeCompare(b.id);
  });
}

/** A subject DN's common name, or the DN itself. */
export function commonName(subject: string): string {
  const match = /CN=([^,]+)/.exec(subject);
  return match ? match[1].trim() : subject;
}

/** Well-known ACME directories for the Issue form. */
export const DIRECTORIES = [
  { id: 'le-staging', label: "Let's Encrypt staging (untrusted, for trying out)", url: 'https://acme-staging-v02.api.letsencrypt.org/directory' },
  { id: 'le', label: "Let's Encrypt production", url: 'https://acme-v02.api.letsencrypt.org/directory' },
  { id: 'custom', label: 'Custom ACME directory…', url: '' },
] as const;

/** Splits the domains field (commas, spaces or lines). */
export function parseDomains(text: string): string[] {
  return text
    .split(/[\s,]+/)
    .map((domain) => domain.trim())
    .filter((domain) => domain.length > 0);
}
