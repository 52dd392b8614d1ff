import { afterEach, describe, expect, it } from 'vitest';
import { cleanup, fireEvent, render, screen } from '@testing-library/svelte';
import CommandPalette from './CommandPalette.svelte';

afterEach(cleanup);

describe('command palette', () => {
  it('puts what the query names before pages that only list it as a keyword', async () => {
    render(CommandPalette, { open: true });
    await fireEvent.input(await screen.findByTestId('palette-input'), { target: { value: 'sett' } });
    const options = screen.getAllByRole('option').map((option) => option.textContent?.trim() ?? '');
    expect(options[0]).toMatch(/^Settings/);
    expect(options.some((option) => option.startsWith('Configs'))).toBe(true);
  });
});
