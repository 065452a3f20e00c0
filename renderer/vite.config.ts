import { fileURLToPath } from 'node:url';
import { svelte } from '@sveltejs/vite-plugin-svelte';
import { defineConfig } from 'vite';

// Run from the repository root (`vite build --config renderer/vite.config.ts`); paths resolve from here.
export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  // Relative URLs: the page is served by the browser host now and loaded from disk by Electron later.
  base: './',
  plugins: [svelte()],
  build: {
    outDir: '../dist/renderer',
    // The output folder lies outside the Vite root, so Vite only empties it when told to.
    emptyOutDir: true,
  },
});
