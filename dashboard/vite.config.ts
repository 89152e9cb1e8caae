/**
 * Dashboard build: `vite build --config dashboard/vite.config.ts` → dashboard/dist, served by the
 * API. Root is this folder so the repo's other sources never leak into the bundle; `domain/` is
 * imported for types only. In dev, /api and /socket.io are proxied to a running platform
 * (HEATWATCH_API, default http://localhost:8080) so `vite --config dashboard/vite.config.ts` works.
 */
import { defineConfig, loadEnv } from 'vite';
import { svelte } from '@sveltejs/vite-plugin-svelte';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('.', import.meta.url));

export default defineConfig(({ mode }) => {
  const apiTarget = loadEnv(mode, root, 'HEATWATCH_').HEATWATCH_API ?? 'http://localhost:8080';
  return {
    root,
    base: './',
    plugins: [svelte()],
    build: {
      outDir: 'dist',
      emptyOutDir: true,
      // No CDN, no web fonts: everything the browser needs is in dist/ (works with no internet).
      assetsInlineLimit: 8192,
      target: 'es2022',
    },
    server: {
      proxy: {
        '/api': apiTarget,
        '/socket.io': { target: apiTarget, ws: true },
      },
    },
  };
});
