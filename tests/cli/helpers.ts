// Runs the built CLI (dist/cli/main.js) as a child process.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const cliPath = path.join(repoRoot, 'dist/cli/main.js');
export const modelsDir = path.join(repoRoot, 'tests/models');

export function model(name: string): string {
  return path.join(modelsDir, name);
}

function newestMtime(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestMtime(p));
    else if (entry.name.endsWith('.ts')) newest = Math.max(newest, statSync(p).mtimeMs);
  }
  return newest;
}

/**
 * `npm test` builds first; when the CLI tests run alone (npx vitest run tests/cli) and dist/ is
 * missing or older than src-main/, build it here (once, under a lock shared by the test files).
 */
export function ensureBuilt(): void {
  // Everything tsconfig.engine.json compiles lives under src-main/ (engine, cli, models-manager, host, …).
  const sources = [path.join(repoRoot, 'src-main')];
  const stale = (): boolean => !existsSync(cliPath) || statSync(cliPath).mtimeMs < Math.max(...sources.map(newestMtime));
  if (!stale()) return;
  const lock = path.join(repoRoot, 'dist/.cli-test-build.lock');
  mkdirSync(path.dirname(lock), { recursive: true });
  const deadline = Date.now() + 180_000;
  for (;;) {
    try {
      mkdirSync(lock);
      break;
    } catch {
      if (Date.now() > deadline) throw new Error('timed out waiting for another test file to build dist/');
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 250);
    }
  }
  try {
    if (stale()) {
      const tsc = path.join(repoRoot, 'node_modules/typescript/bin/tsc');
      // tsc emits even when other files have type errors; only a missing CLI is fatal here.
      spawnSync(process.execPath, [tsc, '-p', path.join(repoRoot, 'tsconfig.engine.json')], { cwd: repoRoot, stdio: 'ignore' });
      if (!existsSync(cliPath)) throw new Error('npm run build did not produce dist/cli/main.js');
    }
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  timeoutMs?: number;
  /** Called after each stderr chunk with all of stderr so far, and the child (to send signals). */
  onStderr?: (stderrSoFar: string, child: ChildProcess) => void;
}

export function runCli(args: string[], options: RunOptions = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [cliPath, ...args], {
      cwd: options.cwd ?? repoRoot,
      env: { ...process.env, ...options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      stderr += d;
      options.onStderr?.(stderr, child);
    });
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`latent-studio ${args.join(' ')} timed out\nstdout: ${stdout}\nstderr: ${stderr}`));
    }, options.timeoutMs ?? 60_000);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

export function tempDir(prefix = 'latent-cli-'): string {
  return mkdtempSync(path.join(os.tmpdir(), prefix));
}

export function listFiles(dir: string): string[] {
  return existsSync(dir) ? readdirSync(dir).sort() : [];
}
