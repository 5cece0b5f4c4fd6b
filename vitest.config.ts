import { svelte } from '@sveltejs/vite-plugin-svelte';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  // The renderer's state lives in `*.svelte.ts` rune modules: compile them for the client (real
  // reactivity, no DOM needed) even though the tests run in Node, and give them Svelte's client API.
  plugins: [svelte({ configFile: false, dynamicCompileOptions: () => ({ generate: 'client' }) })],
  resolve: {
    alias: [
      { find: /^svelte$/, replacement: fileURLToPath(new URL('./node_modules/svelte/src/index-client.js', import.meta.url)) },
      { find: /^@shared\/(.*)$/, replacement: fileURLToPath(new URL('./src-main/shared/$1', import.meta.url)) },
    ],
  },
  test: {
    include: ['tests/**/*.test.ts'],
    // Two cores here and in CI: the engine tests are CPU-bound, so run files on two workers.
    maxWorkers: 2,
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // expect.poll waits for a condition; its limit is only a safety net (vitest's 1 s default races real work
    // on a busy machine).
    expect: { poll: { timeout: 45_000 } },
  },
});
