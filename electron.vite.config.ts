// electron-vite: three builds into out/ (gitignored).
//   main     src-main/main/index.main.ts          → out/main/index.js            (ESM; deps stay external)
//            src-main/main/engine-host.main.ts    → out/main/engine-host.js      (the utilityProcess running the engine worker)
//   preload  src-main/preload/index.preload.ts    → out/preload/index.cjs        (CJS, everything bundled: sandbox: true)
//   renderer src-renderer/index.html              → out/renderer/                (Svelte 5)
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'electron-vite';
import { svelte } from '@sveltejs/vite-plugin-svelte';

const root = dirname(fileURLToPath(import.meta.url));

export default defineConfig({
  main: {
    build: {
      outDir: resolve(root, 'out/main'),
      emptyOutDir: true,
      // onnxruntime-node and sharp are native: keep every dependency external (loaded from node_modules / app.asar.unpacked).
      externalizeDeps: true,
      sourcemap: true,
      rolldownOptions: {
        input: {
          index: resolve(root, 'src-main/main/index.main.ts'),
          'engine-host': resolve(root, 'src-main/main/engine-host.main.ts'),
        },
        output: { format: 'es', entryFileNames: '[name].js' },
      },
    },
  },
  preload: {
    build: {
      outDir: resolve(root, 'out/preload'),
      emptyOutDir: true,
      // A sandboxed preload can only require('electron'): bundle everything, emit CommonJS.
      externalizeDeps: false,
      sourcemap: true,
      rolldownOptions: {
        input: { index: resolve(root, 'src-main/preload/index.preload.ts') },
        output: { format: 'cjs', entryFileNames: '[name].cjs', codeSplitting: false },
      },
    },
  },
  renderer: {
    root: resolve(root, 'src-renderer'),
    base: './',
    plugins: [svelte()],
    resolve: {
      alias: {
        '@shared': resolve(root, 'src-main/shared'),
      },
    },
    build: {
      outDir: resolve(root, 'out/renderer'),
      emptyOutDir: true,
      // electron-vite leaves the renderer unminified by default (751 kB vs 290 kB).
      minify: true,
      sourcemap: true,
      rolldownOptions: {
        input: { index: resolve(root, 'src-renderer/index.html') },
      },
    },
  },
});
