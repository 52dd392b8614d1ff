import './app.css';
import { mount } from 'svelte';
import App from './App.svelte';
import { applyTheme, storedThemeChoice } from './lib/theme.svelte';

applyTheme(storedThemeChoice());

// Under the POSIX locale (LANG=C) WebKitGTK reports the page's language as
// `C`, which is no BCP 47 tag: Intl constructors given it throw, and the
// chart library builds one as it loads. Such a page speaks plain English.
try {
  new Intl.NumberFormat(navigator.language);
} catch {
  Object.defineProperty(navigator, 'language', { value: 'en-US', configurable: true });
  Object.defineProperty(navigator, 'languages', { value: ['en-US'], configurable: true });
}

const target = document.getElementById('app');
if (!target) throw new Error('index.html has no #app element');
mount(App, { target });
