import { defineConfig } from 'vitest/config';
import { svelte } from '@sveltejs/vite-plugin-svelte';
import tailwindcss from '@tailwindcss/vite';

// The desktop app loads the built files from ui/dist; `npm run dev` serves them
// on a fixed port for `tauri dev` (see src-tauri/tauri.dev.json).
export default defineConfig(({ mode }) => ({
  plugins: [tailwindcss(), svelte()],
  clearScreen: false,
  server: { port: 1420, strictPort: true, host: '127.0.0.1' },
  build: {
    target: 'safari15',
    outDir: 'dist',
    emptyOutDir: true,
    // Inline assets would need `data:` in the CSP; keep them as files.
    assetsInlineLimit: 0,
    // The Configs page (CodeMirror with its languages and merge view) is one
    // lazily loaded chunk of about 500 kB, read from disk, never the network.
    chunkSizeWarningLimit: 600,
  },
  test: {
    environment: 'jsdom',
    include: ['src/**/*.test.ts'],
  },
  // Svelte's client build (not its server build) for component tests.
  resolve: mode === 'test' ? { conditions: ['browser'] } : undefined,
}));
