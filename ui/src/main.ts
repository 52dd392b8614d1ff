import './app.css';
import { mount } from 'svelte';
import App from './App.svelte';
import { applyTheme, storedThemeChoice } from './lib/theme.svelte';

applyTheme(storedThemeChoice());

const target = document.getElementById('app');
if (!target) throw new Error('index.html has no #app element');
mount(App, { target });
