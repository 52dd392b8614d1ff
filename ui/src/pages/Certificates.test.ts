import { afterEach, describe, expect, it } from 'vitest';
import { cleanup, fireEvent, render, screen, waitFor } from '@testing-library/svelte';
import { clearMocks, mockIPC } from '@tauri-apps/api/mocks';
import Certificates from './Certificates.svelte';
import type { CertDetail, CertRecord } from '../lib/api';

afterEach(() => {
  cleanup();
  clearMocks();
});

const DAY = 86_400_000;

function cert(overrides: Partial<CertRecord>): CertRecord {
  return {
    id: 'aaaaaaaaaaaa',
    subject: 'CN=a.example.test',
    sans: ['a.example.test'],
    issuer: 'CN=Test Intermediate',
    serial: '01',
    key_type: 'ECDSA P-256',
    not_before: Date.now() - 10 * DAY,
    not_after: Date.now() + 60 * DAY,
    days_left: 60,
    fingerprint: 'ff',
    self_signed: false,
    is_ca: false,
    chain_status: 'valid',
    chain_reason: '',
    source: 'file',
    state: 'active',
    locations: [{ kind: 'file', location: '/etc/ssl/a.pem', seen_at: Date.now() }],
    managed: null,
    next_renewal_at: null,
    last_error: null,
    chain_pem: '',
    created_at: Date.now(),
    updated_at: Date.now(),
    ...overrides,
  };
}

const certs = [
  cert({ id: 'late00000000', sans: ['late.example.test'], not_after: Date.now() + 60 * DAY, days_left: 60 }),
  cert({ id: 'soon00000000', sans: ['soon.example.test'], not_after: Date.now() + 3 * DAY, days_left: 3 }),
  cert({ id: 'mid000000000', sans: ['mid.example.test'], not_after: Date.now() + 20 * DAY, days_left: 20, source: 'endpoint' }),
];

describe('Certificates page', () => {
  it('lists soonest expiry first, coloured by days left, and filters', async () => {
    mockIPC(
      (command) => {
        if (command === 'cert_list') return certs;
        throw new Error(command);
      },
      { shouldMockEvents: true },
    );
    render(Certificates);
    await screen.findByTestId('certs-table');
    const rows = screen.getAllByTestId('cert-row');
    expect(rows.map((row) => row.dataset.cert)).toEqual(['soon00000000', 'mid000000000', 'late00000000']);
    expect(rows.map((row) => row.dataset.band)).toEqual(['critical', 'warning', 'ok']);
    expect(rows[0].textContent).toContain('3 days');

    await fireEvent.click(screen.getByTestId('cert-filter-endpoints'));
    expect(screen.getAllByTestId('cert-row').map((row) => row.dataset.cert)).toEqual(['mid000000000']);
  });

  it('shows a selected certificate with its history and where it lives', async () => {
    const detail: CertDetail = {
      certificate: certs[1],
      history: [{ at: Date.now(), state: 'active', message: 'found in file /etc/ssl/a.pem', actor: 'cli:me' }],
      chain: [],
    };
    mockIPC(
      (command) => {
        if (command === 'cert_list') return certs;
        if (command === 'cert_show') return detail;
        throw new Error(command);
      },
      { shouldMockEvents: true },
    );
    render(Certificates);
    await screen.findByTestId('certs-table');
    await fireEvent.click(screen.getAllByTestId('cert-row')[0]);
    const history = await screen.findByTestId('cert-history');
    expect(history.textContent).toContain('found in file');
    await waitFor(() => expect(screen.getByTestId('cert-detail').textContent).toContain('/etc/ssl/a.pem'));
    // Imported certificates are not renewed here: no Renew button.
    expect(screen.queryByTestId('cert-renew')).toBeNull();
  });

  it('says what to do when there is nothing yet', async () => {
    mockIPC(
      (command) => {
        if (command === 'cert_list') return [];
        throw new Error(command);
      },
      { shouldMockEvents: true },
    );
    render(Certificates);
    const empty = await screen.findByTestId('certs-empty');
    expect(empty.textContent).toContain('Import');
    expect(empty.textContent).toContain('Issue a certificate');
  });
});
