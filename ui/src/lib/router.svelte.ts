// Navigation between pages, kept in the URL hash so a reload stays on the page.

export type PageId = 'overview' | 'vaults' | 'certificates' | 'scanning' | 'configs' | 'traces' | 'logs' | 'metrics' | 'alerts' | 'activity' | 'jobs' | 'connections' | 'settings';

export interface PageInfo {
  id: PageId;
  title: string;
  group: string;
  /** Words the command palette also matches. */
  keywords: string;
}

/** Every page of the app, in sidebar order. Only areas that work are listed. */
export const PAGES: PageInfo[] = [
  { id: 'overview', title: 'Overview', group: '', keywords: 'home status store readiness' },
  { id: 'vaults', title: 'Vaults', group: 'Secrets', keywords: 'secrets passwords keys tokens reveal' },
  { id: 'certificates', title: 'Certificates', group: 'Secrets', keywords: 'tls ssl x509 acme letsencrypt expiry renew revoke probe' },
  { id: 'scanning', title: 'Scanning', group: 'Secrets', keywords: 'secret scanning leaks hardcoded tokens keys git history findings false positive rotate' },
  { id: 'configs', title: 'Configs', group: 'Configs', keywords: 'configuration settings yaml toml json schema environments promote dev staging prod' },
  { id: 'traces', title: 'Traces', group: 'Telemetry', keywords: 'otlp opentelemetry spans waterfall critical path latency service map compare slow' },
  { id: 'logs', title: 'Logs', group: 'Telemetry', keywords: 'otlp opentelemetry log records tail severity errors' },
  { id: 'metrics', title: 'Metrics', group: 'Telemetry', keywords: 'promql prometheus series chart rate histogram quantile otlp' },
  { id: 'alerts', title: 'Alerts', group: 'Telemetry', keywords: 'alerting rules firing pending silence acknowledge p1 p2 page on-call prometheus alertmanager' },
  { id: 'activity', title: 'Activity', group: 'Operations', keywords: 'audit trail log history verify who did what' },
  { id: 'jobs', title: 'Jobs', group: 'Operations', keywords: 'scheduler schedule runs background cron retry' },
  { id: 'connections', title: 'Connections', group: 'Operations', keywords: 'webhooks notifications circuit breaker outbound http endpoints' },
  { id: 'settings', title: 'Settings', group: '', keywords: 'preferences theme appearance data dir about' },
];

function pageFromHash(hash: string): PageId {
  const id = hash.replace(/^#\/?/, '').split('/')[0];
  return PAGES.some((page) => page.id === id) ? (id as PageId) : 'overview';
}

/** What follows the page in the hash (`red?service=shop` of `#/metrics/red?service=shop`). */
function detailFromHash(hash: string): string {
  const path = hash.replace(/^#\/?/, '');
  const slash = path.indexOf('/');
  return slash < 0 ? '' : decodeURIComponent(path.slice(slash + 1));
}

class Router {
  current = $state<PageId>(pageFromHash(globalThis.location?.hash ?? ''));
  /** The object shown within the page (a dashboard's name), from the hash. */
  detail = $state<string>(detailFromHash(globalThis.location?.hash ?? ''));

  constructor() {
    globalThis.addEventListener?.('hashchange', () => {
      this.current = pageFromHash(globalThis.location.hash);
      this.detail = detailFromHash(globalThis.location.hash);
    });
  }

  go(page: PageId, detail = ''): void {
    this.current = page;
    this.detail = detail;
    const hash = detail ? `#/${page}/${encodeURIComponent(detail)}` : `#/${page}`;
    if (globalThis.location && globalThis.location.hash !== hash) {
      globalThis.location.hash = hash.slice(1);
    }
  }
}

export const router = new Router();
export { pageFromHash, detailFromHash };
