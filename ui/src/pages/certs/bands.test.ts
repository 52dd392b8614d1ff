import { describe, expect, it } from 'vitest';
import { bandOf, daysLabel, stateLabel, filterCerts, parseDomains, sortByDaysLeft, commonName } from './bands';
import type { CertRecord } from '../../lib/api';

const DAY = 86_400_000;

function cert(overrides: Partial<CertRecord>): CertRecord {
  return {
    id: 'abcdef012345',
    subject: 'CN=a.example.test',
    sans: ['a.example.test'],
    issuer: 'CN=Test CA',
    serial: '01',
    key_type: 'ECDSA P-256',
    not_before: 0,
    not_after: 100 * DAY,
    days_left: 60,
    fingerprint: 'ff',
    self_signed: false,
    is_ca: false,
    chain_status: 'valid',
    chain_reason: '',
    source: 'file',
    state: 'active',
    locations: [],
    managed: null,
    next_renewal_at: null,
    last_error: null,
    chain_pem: '',
    created_at: 0,
    updated_at: 0,
    ...overrides,
  };
}

describe('certificate bands', () => {
  it('colours by days left: red under a week and when expired, amber under a month', () => {
    expect(bandOf(cert({ days_left: 60 }))).toBe('ok');
    expect(bandOf(cert({ days_left: 29 }))).toBe('warning');
    expect(bandOf(cert({ days_left: 6 }))).toBe('critical');
    expect(bandOf(cert({ days_left: -1, state: 'expired' }))).toBe('expired');
    expect(bandOf(cert({ not_after: 0, state: 'requested' }))).toBe('pending');
    expect(bandOf(cert({ not_after: 0, state: 'failed' }))).toBe('critical');
  });

  it('says days in words', () => {
    expect(daysLabel(cert({ days_left: 1 }))).toBe('1 day');
    expect(daysLabel(cert({ days_left: 0 }))).toBe('today');
    expect(daysLabel(cert({ days_left: -3 }))).toBe('expired 3 days ago');
    expect(daysLabel(cert({ not_after: 0 }))).toBe('—');
    expect(stateLabel(cert({ days_left: 12 }))).toBe('12 days');
    expect(stateLabel(cert({ not_after: 0, state: 'failed' }))).toBe('failed');
    expect(stateLabel(cert({ days_left: 40, state: 'revoked' }))).toBe('revoked · 40 days');
  });

  it('filters by need and searches names, issuer and id', () => {
    const certs = [
      cert({ id: 'a1', days_left: 3 }),
      cert({ id: 'b2', sans: ['shop.example.test'], source: 'acme' }),
      cert({ id: 'c3', source: 'endpoint', chain_status: 'untrusted' }),
    ];
    expect(filterCerts(certs, 'attention', '').map((c) => c.id)).toEqual(['a1', 'c3']);
    expect(filterCerts(certs, 'managed', '').map((c) => c.id)).toEqual(['b2']);
    expect(filterCerts(certs, 'all', 'SHOP').map((c) => c.id)).toEqual(['b2']);
  });

  it('sorts soonest expiry first with unissued ones last', () => {
    const sorted = sortByDaysLeft([
      cert({ id: 'late', not_after: 90 * DAY }),
      cert({ id: 'pending', not_after: 0 }),
      cert({ id: 'soon', not_after: 5 * DAY }),
    ]);
    expect(sorted.map((c) => c.id)).toEqual(['soon', 'late', 'pending']);
  });

  it('reads domains and common names', () => {
    expect(parseDomains(' a.example.test, *.b.example.test\nc.example.test ')).toEqual([
      'a.example.test',
      '*.b.example.test',
      'c.example.test',
    ]);
    expect(commonName('CN=shop.example.test, O=Example')).toBe('shop.example.test');
  });
});
