// The colour theme: follows the OS by default, or a choice the user made in
// Settings (kept in localStorage: it is a preference of this window, not data).

export type ThemeChoice = 'system' | 'light' | 'dark';

const STORAGE_KEY = 'opsdeck.theme';
const DARK_QUERY = '(prefers-color-scheme: dark)';

export function storedThemeChoice(): ThemeChoice {
  const stored = globalThis.localStorage?.getItem(STORAGE_KEY);
  return stored === 'light' || stored === 'dark' ? stored : 'system';
}

function systemPrefersDark(): boolean {
  return globalThis.matchMedia?.(DARK_QUERY).matches ?? false;
}

/** Which theme is shown for a choice. */
export function resolveTheme(choice: ThemeChoice, prefersDark = systemPrefersDark()): 'light' | 'dark' {
  if (choice === 'system') return prefersDark ? 'dark' : 'light';
  return choice;
}

/** Sets the `dark` class on <html> for the choice. */
export function applyTheme(choice: ThemeChoice): void {
  const dark = resolveTheme(choice) === 'dark';
  document.documentElement.classList.toggle('dark', dark);
  document.documentElement.dataset.theme = dark ? 'dark' : 'light';
}

class ThemeState {
  choice = $state<ThemeChoice>(storedThemeChoice());

  constructor() {
    // When following the OS, switch as soon as the OS does.
    globalThis.matchMedia?.(DARK_QUERY).addEventListener?.('change', () => {
      if (this.choice === 'system') applyTheme('system');
    });
  }

  set(choice: ThemeChoice): void {
    this.choice = choice;
    if (choice === 'system') globalThis.localStorage?.removeItem(STORAGE_KEY);
    else globalThis.localStorage?.setItem(STORAGE_KEY, choice);
    applyTheme(choice);
  }

  /** Flips between light and dark (from whatever is shown now). */
  toggle(): void {
    this.set(resolveTheme(this.choice) === 'dark' ? 'light' : 'dark');
  }
}

export const theme = new ThemeState();
