import { describe, expect, it } from 'vitest';
import type { SecretInfo } from '../../lib/api';
import { fieldsOf, toInput } from './metadata';

const secret: SecretInfo = {
  vault: 'prod',
  name: 'api',
  type: 'api_key',
  version: 3,
  updated_at: 0,
  tags: ['prod', 'team:payments'],
  note: 'Stripe live key',
  rotate_every_days: 30,
  rotate_verify: null,
  rotation_due_at: 30 * 86_400_000,
  expires_at: Date.parse('2030-01-31T00:00:00Z'),
};

describe('the metadata form', () => {
  it('round-trips a secret through its fields', () => {
    const input = toInput(fieldsOf(secret));
    expect(input).toEqual({
      tags: ['prod', 'team:payments'],
      note: 'Stripe live key',
      rotate_every_days: 30,
      rotate_verify: '',
      expires_at: secret.expires_at,
    });
  });

  it('trims tags, drops empty ones and sends empty fields as 0 or empty text, which removes them', () => {
    const input = toInput({ tags: ' a , ,b ', note: '', rotateEveryDays: ' ', rotateVerify: '  ', expires: '' });
    expect(input.tags).toEqual(['a', 'b']);
    expect(input.rotate_every_days).toBe(0);
    expect(input.rotate_verify).toBe('');
    expect(input.expires_at).toBe(0);
  });

  it('names the field that is wrong', () => {
    const base = fieldsOf(secret);
    expect(() => toInput({ ...base, rotateEveryDays: 'soon' })).toThrow(/Rotate every/);
    expect(() => toInput({ ...base, rotateEveryDays: '0' })).toThrow(/Rotate every/);
    expect(() => toInput({ ...base, expires: '31/01/2030' })).toThrow(/Expires/);
  });
});
