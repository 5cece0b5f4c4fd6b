// `latent-studio serve`: the studio in a browser. The CLI's `serve` command calls runServe().
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startWebHost, type WebHost } from './web-host.js';

export interface ServeOptions {
  /** TCP port (default 0: a free one). */
  port?: number;
  /** Built renderer (default <repo>/out/renderer). */
  rendererDir?: string;
  /** Bundled models folder (default <repo>/resources/models). */
  modelsDir?: string;
  settingsFile?: string;
  /** Print nothing but the URL line. */
  quiet?: boolean;
}

/** <repo>/out/renderer, found from this file (src-main/web/ or dist/web/). */
export function defaultRendererDir(): string {
  return path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'out', 'renderer');
}

/** Starts the browser host, prints its URL (with the token) and serves until SIGINT/SIGTERM. Resolves with the exit code. */
export async function runServe(options: ServeOptions = {}, out: NodeJS.WritableStream = process.stdout, err: NodeJS.WritableStream = process.stderr): Promise<number> {
  const rendererDir = options.rendererDir ?? defaultRendererDir();
  if (!existsSync(path.join(rendererDir, 'index.html'))) {
    err.write(`warning: the studio UI is not built (${rendererDir}/index.html is missing): run \`npm run build:studio\` first.\n`);
  }
  let host: WebHost;
  try {
    host = await startWebHost({
      rendererDir,
      ...(options.port !== undefined ? { port: options.port } : {}),
      ...(options.modelsDir !== undefined ? { modelsDir: path.resolve(options.modelsDir) } : {}),
      ...(options.settingsFile !== undefined ? { settingsFile: path.resolve(options.settingsFile) } : {}),
      log: (level, message) => {
        if (level !== 'info' || !options.quiet) err.write(`${level}: ${message}\n`);
      },
    });
  } catch (error) {
    const e = error as NodeJS.ErrnoException;
    err.write(`error: cannot start the studio server: ${e.code === 'EADDRINUSE' ? `port ${options.port} is in use` : e.message}\n`);
    return 1;
  }
  if (!options.quiet) out.write('Latent Studio is running. Open this address in your browser (it carries the access token):\n');
  out.write(`${host.url}\n`);
  if (!options.quiet) out.write('Press Ctrl+C to stop.\n');
  return new Promise<number>((resolve) => {
    const stop = (signal: NodeJS.Signals): void => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      void host.close().finally(() => resolve(signal === 'SIGTERM' ? 143 : 130));
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
}
