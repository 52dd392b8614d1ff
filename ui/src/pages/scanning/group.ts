// Grouping and labels for the Scanning page's findings (kept apart from the
// page so they are unit-tested).
import type { FindingState } from '../../lib/bindings/FindingState';
import type { StoredFinding } from '../../lib/bindings/StoredFinding';

export type FindingFilter = 'open' | 'false_positive' | 'fixed' | 'all';

export const FILTERS: { id: FindingFilter; label: string }[] = [
  { id: 'open', label: 'Open' },
  { id: 'false_positive', label: 'False positives' },
  { id: 'fixed', label: 'Fixed' },
  { id: 'all', label: 'All' },
];

export const STATE_LABELS: Record<FindingState, string> = {
  new: 'New',
  confirmed: 'Confirmed',
  false_positive: 'False positive',
  fixed: 'Fixed',
};

export function isOpen(state: FindingState): boolean {
  return state === 'new' || state === 'confirmed';
}

export function filterFindings(findings: StoredFinding[], filter: FindingFilter): StoredFinding[] {
  switch (filter) {
    case 'open':
      return findings.filter((stored) => isOpen(stored.state));
    case 'all':
      return findings;
    default:
      return findings.filter((stored) => stored.state === filter);
  }
}

export interface FindingGroup {
  key: string;
  title: string;
  subtitle: string;
  findings: StoredFinding[];
}

/** Findings grouped by rule (vault values first) or by file, each group's findings by path and line. */
export function groupFindings(findings: StoredFinding[], by: 'rule' | 'file'): FindingGroup[] {
  const groups = new Map<string, FindingGroup>();
  for (const stored of findings) {
    const finding = stored.finding;
    const key = by === 'rule' ? finding.rule : finding.relative_path;
    let group = groups.get(key);
    if (!group) {
      group =
        by === 'rule'
          ? { key, title: finding.rule, subtitle: finding.description, findings: [] }
          : { key, title: finding.relative_path || finding.path, subtitle: '', findings: [] };
      groups.set(key, group);
    }
    group.findings.push(stored);
  }
  const ordered = [...groups.values()];
  for (const group of ordered) {
    group.findings.sort((a, b) => a.finding.relative_path.localeCompare(b.finding.relative_path) || a.finding.line - b.finding.line);
    if (by === 'file') group.subtitle = `${group.findings.length} finding${group.findings.length === 1 ? '' : 's'}`;
  }
  ordered.sort((a, b) => {
    if (by === 'rule') {
      const vault = Number(b.key === 'vault-value') - Number(a.key === 'vault-value');
      if (vault !== 0) return vault;
      return b.findings.length - a.findings.length || a.key.localeCompare(b.key);
    }
    return a.key.localeCompare(b.key);
  });
  return ordered;
}

/** `12.3 MB in 0.40 s (31 MB/s)` for a scan's summary (`4 KB in 0.15 s` when too small for a rate to mean much). */
export function throughput(bytes: number, elapsedMs: number): string {
  const seconds = Math.max(elapsedMs, 1) / 1000;
  const size = bytes >= 1_000_000 ? `${(bytes / 1_000_000).toFixed(1)} MB` : bytes >= 1000 ? `${Math.round(bytes / 1000)} KB` : `${bytes} bytes`;
  if (bytes < 1_000_000) return `${size} in ${seconds.toFixed(2)} s`;
  return `${size} in ${seconds.toFixed(2)} s (${Math.round(bytes / 1_000_000 / seconds)} MB/s)`;
}

/**
 * How far a running scan is, in percent, judged by the bytes the previous
 * scan of the same target read (a walk does not know its total before it
 * ends); `null` without a previous scan to go by. Never 100 while it runs:
 * the folder may have grown.
 */
export function progressEstimate(bytesSoFar: number, previousBytes: number | null | undefined): number | null {
  if (!previousBytes || previousBytes <= 0) return null;
  return Math.min(99, Math.floor((bytesSoFar / previousBytes) * 100));
}
