import { describe, expect, it } from 'vitest';
import { resolveTheme } from './theme.svelte';
import { pageFromHash } from './router.svelte';
import { relativeTime } from './time';

describe('theme', () => {
  it('follows the system unless a theme was chosen', () => {
    expect(resolveTheme('system', true)).toBe('dark');
    expect(resolveTheme('system', false)).toBe('light');
    expect(resolveTheme('light', true)).toBe('light');
    expect(resolveTheme('dark', false)).toBe('dark');
  });
});

describe('router', () => {
  it('maps hashes to known pages and anything else to the overview', () => {
    expect(pageFromHash('#/settings')).toBe('settings');
    expect(pageFromHash('#settings')).toBe('settings');
    expect(pageFromHash('')).toBe('overview');
    expect(pageFromHash('#/no-such-page')).toBe('overview');
  });
});

describe('relativeTime', () => {
  const now = Date.UTC(2026, 10, 23, 12, 0, 0);
  it('reads naturally in the past and the future', () => {
    expect(relativeTime(now - 3 * 60_000, now)).toBe('3 minutes ago');
    expect(relativeTime(now + 12 * 24 * 3600_000, now)).toBe('in 2 weeks');
    expect(relativeTime(now - 2 * 24 * 3600_000, now)).toBe('2 days ago');
    expect(relativeTime(now - 1000, now)).toBe('just now');
  });
});
