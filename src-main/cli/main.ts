#!/usr/bin/env node
// Entry point of the `latent-studio` command (package.json "bin" → dist/cli/main.js).
import { run } from './program.js';

// `latent-studio ... | head`: a closed stdout is not an error worth a stack trace.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw error;
  });
}

const code = await run(process.argv);
// Let stdout drain, then exit even if a native handle (a worker, a session) lingers.
process.exitCode = code;
await new Promise<void>((resolve) => process.stdout.write('', () => resolve()));
process.exit(code);
