// Process lifetime of the browser host: `npm run serve` (the last step of `npm run web`) stops, engine and all,
// when npm is told to stop; and the engine child process ends when its host is killed outright.
//
// Every process here shares the test's stdout/stderr pipes (npm's script, the host and the engine child it
// forks inherit them), so a ChildProcess 'close' event, which waits for those pipes to reach end-of-file,
// means every one of them has exited. No test waits for an amount of time.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { createWireClient, type SocketLike } from '../../src-main/shared/wire-client.js';
import { cliPath, ensureBuilt, modelsDir, repoRoot, tempDir } from './helpers.js';

const linux = process.platform === 'linux';
/** Every pid a test started or found: afterEach kills what a failed test left running. */
const started = new Set<number>();

interface Started {
  proc: ChildProcess;
  url: URL;
  /** All pipes closed: the process and everything that inherited its stdio have exited. */
  closed: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  output: () => string;
}

/** Spawns, and resolves once the host has printed its URL. */
function startHost(command: string, args: string[], env: NodeJS.ProcessEnv): Promise<Started> {
  const proc = spawn(command, args, { cwd: repoRoot, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  started.add(proc.pid!);
  let stdout = '';
  let stderr = '';
  const closed = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => proc.on('close', (code, signal) => resolve({ code, signal })));
  return new Promise((resolve, reject) => {
    proc.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    proc.stdout!.setEncoding('utf8').on('data', (d: string) => {
      stdout += d;
      const m = /http:\/\/127\.0\.0\.1:\d+\/#token=\S+/.exec(stdout);
      if (m) resolve({ proc, url: new URL(m[0]), closed, output: () => stdout + stderr });
    });
    proc.on('error', reject);
    void closed.then(({ code, signal }) => reject(new Error(`${command} exited (${code ?? signal}) before serving:\n${stdout}${stderr}`)));
  });
}

/** The pid of each direct child of `pid` (Linux: /proc/PID/task/PID/children). */
function childPids(pid: number): number[] {
  const file = `/proc/${pid}/task/${pid}/children`;
  const pids = existsSync(file) ? readFileSync(file, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number) : [];
  for (const p of pids) started.add(p);
  return pids;
}

/** Gone, or a zombie nobody has reaped yet (a container's pid 1 may never reap). */
function isGone(pid: number): boolean {
  try {
    return readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /, '').startsWith('Z');
  } catch {
    return true;
  }
}

/** Whether something accepts connections on the port (a single attempt). */
function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    s.once('connect', () => (s.destroy(), resolve(true)));
    s.once('error', () => resolve(false));
  });
}

/** Runs one tiny generation through the host, so that its engine child process is up; returns the host's children. */
async function engineUp(url: URL, hostPid: number): Promise<number[]> {
  const client = createWireClient(new WebSocket(`ws://${url.host}/ws?token=${url.hash.slice('#token='.length)}`) as unknown as SocketLike);
  await client.ready;
  const done = new Promise<unknown>((resolve, reject) => {
    client.on('result', resolve);
    client.on('jobError', (e) => reject(new Error(JSON.stringify(e))));
  });
  const r = await client.invoke('generate', { model: 'bundled:tiny-sd15', prompt: 'lifetime', width: 64, height: 64, steps: 2, seed: 1, sampler: 'euler' });
  expect(r.ok).toBe(true);
  await done;
  client.close();
  return childPids(hostPid);
}

describe.skipIf(!linux)('browser host process lifetime', () => {
  let scratch: string;
  beforeAll(() => {
    ensureBuilt();
    scratch = tempDir('latent-serve-lifetime-');
  });
  afterEach(() => {
    const tree = [...started];
    for (let i = 0; i < tree.length; i++) tree.push(...childPids(tree[i]!).filter((p) => !tree.includes(p)));
    for (const pid of tree) if (!isGone(pid)) process.kill(pid, 'SIGKILL');
    started.clear();
  });
  afterAll(() => rmSync(scratch, { recursive: true, force: true }));

  const hostEnv = (): NodeJS.ProcessEnv => ({ LATENT_STUDIO_OUTPUT_DIR: path.join(scratch, 'out') });
  const hostArgs = (): string[] => ['--port', '0', '--models', modelsDir, '--settings', path.join(scratch, 'settings.json'), '--renderer', path.join(scratch, 'no-renderer')];

  it('SIGTERM to `npm run serve` stops the host and its engine child; the port closes', async () => {
    const npm = await startHost('npm', ['run', '--silent', 'serve', '--', ...hostArgs()], hostEnv());
    // The script execs node: npm's only child is the host itself.
    const [hostPid, ...others] = childPids(npm.proc.pid!);
    expect(others).toEqual([]);
    expect(readFileSync(`/proc/${hostPid}/cmdline`, 'utf8').split('\0')).toContain(cliPath.replace(`${repoRoot}/`, ''));
    const engine = await engineUp(npm.url, hostPid!);
    expect(engine).toHaveLength(1);
    npm.proc.kill('SIGTERM');
    const end = await npm.closed;
    expect(end.code ?? end.signal, npm.output()).not.toBe(0);
    expect(isGone(hostPid!)).toBe(true);
    expect(isGone(engine[0]!)).toBe(true);
    expect(await listening(Number(npm.url.port))).toBe(false);
  }, 120_000);

  it('SIGKILL to the host: its engine child process ends too (the IPC channel closes)', async () => {
    const host = await startHost(process.execPath, [cliPath, 'serve', ...hostArgs()], hostEnv());
    const engine = await engineUp(host.url, host.proc.pid!);
    expect(engine).toHaveLength(1);
    host.proc.kill('SIGKILL');
    // 'close' waits for the engine too: it holds the same stdout/stderr pipes until it exits.
    const end = await host.closed;
    expect(end.signal).toBe('SIGKILL');
    expect(isGone(engine[0]!)).toBe(true);
    expect(await listening(Number(host.url.port))).toBe(false);
  }, 120_000);
});
