// Which backends this machine really runs: each is probed by creating a tiny session on it and running it once
// (the build's list only says what onnxruntime-node was compiled with). `auto` picks the fastest that works and
// remembers the choice per onnxruntime-node version and platform.
import { spawn } from 'node:child_process';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { PROBE_INPUT, PROBE_OUTPUT, probeModelBytes } from './probe-model.js';
import { listSupportedBackends, normalizeBackendName, onnxruntimeEntry, probeSessionOptions, runProbeSession, runtimeIdentity } from './runtime.js';

/** `auto` tries these, fastest first. TensorRT is left out: it builds an engine per shape, minutes on first use. */
export const AUTO_ORDER = ['cuda', 'dml', 'coreml', 'webgpu', 'cpu'] as const;

export interface BackendProbe {
  name: string;
  works: boolean;
  /** Why not, when it does not work (onnxruntime's message, shortened). */
  reason?: string;
}

export interface ProbeOptions {
  /** A driver that never answers must not hang the caller: the probe child is killed after this long. */
  timeoutMs?: number;
}

const DEFAULT_TIMEOUT_MS = 60_000;

// Runs in a child Node process (plain CommonJS through `node -e`, so it needs no file of ours on disk): loads
// onnxruntime-node, creates the session, runs it once and prints the output values or the error as JSON.
const PROBE_CHILD = `
let text = '';
process.stdin.setEncoding('utf8');
process.stdin.on('data', (chunk) => (text += chunk));
process.stdin.on('end', async () => {
  let answer;
  try {
    const job = JSON.parse(text);
    const ort = require(job.entry);
    ort.env.logLevel = 'error'; // onnxruntime logs why a provider library did not load; failureReason reads it
    const session = await ort.InferenceSession.create(Buffer.from(job.model, 'base64'), job.options);
    const result = await session.run({ [job.input.name]: new ort.Tensor('float32', Float32Array.from(job.input.values), job.input.dims) });
    answer = { output: Array.from(result[job.outputName].data) };
  } catch (error) {
    answer = { error: String((error && error.message) || error) };
  }
  process.stdout.write(JSON.stringify(answer), () => process.exit(0));
});
`;

/** onnxruntime's long messages shortened to what a user can act on ("… with error: libcudnn.so.9: cannot open …"). */
export function failureReason(message: string, stderr = ''): string {
  // onnxruntime-node's JS side only registers the backends its binary for this platform has.
  if (/\[[\w-]+\] backend not found/.test(message)) return `not in onnxruntime-node's build for ${process.platform}-${process.arch}`;
  // The loader's own words, with library paths cut to their file names ("libcudnn.so.9: cannot open …").
  const detail = /with error: (.*)/.exec(stderr)?.[1]?.trim().replace(/(?:[A-Za-z]:)?[\\/]\S*[\\/]([^\\/\s:]+)/g, '$1');
  let line = (message.split('\n')[0] ?? message).trim();
  // "/onnxruntime_src/…/file.cc:136 Func … was false. Failed to get a WebGPU adapter: …" → the sentence after the check.
  const afterCheck = /was false\.\s*(.+)$/.exec(line)?.[1];
  if (afterCheck) line = afterCheck;
  const status = /\[ONNXRuntimeError\] : \d+ : \w+ : (.+)$/.exec(line)?.[1];
  if (status) line = status;
  if (detail && !line.includes(detail)) line = `${line} (${detail})`;
  return line.length > 300 ? `${line.slice(0, 300)}…` : line;
}

function judge(name: string, answer: { output?: number[]; error?: string }, stderr = ''): BackendProbe {
  if (answer.error !== undefined) return { name, works: false, reason: failureReason(answer.error, stderr) };
  const output = answer.output ?? [];
  const right = output.length === PROBE_OUTPUT.values.length && output.every((v, i) => v === PROBE_OUTPUT.values[i]);
  return right ? { name, works: true } : { name, works: false, reason: `computed a wrong result (${output.join(', ')})` };
}

function probeInChild(name: string, timeoutMs: number): Promise<BackendProbe> {
  const job = {
    entry: onnxruntimeEntry(),
    model: Buffer.from(probeModelBytes()).toString('base64'),
    options: probeSessionOptions(name),
    input: PROBE_INPUT,
    outputName: PROBE_OUTPUT.name,
  };
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['-e', PROBE_CHILD], { stdio: ['pipe', 'pipe', 'pipe'], windowsHide: true });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
    child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr = (stderr + c).slice(-20_000)));
    child.on('error', (error) => {
      clearTimeout(timer);
      resolve({ name, works: false, reason: `could not start the probe process (${error.message})` });
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (timedOut) return resolve({ name, works: false, reason: `no answer within ${Math.round(timeoutMs / 1000)} s (the driver hangs)` });
      try {
        resolve(judge(name, JSON.parse(stdout) as { output?: number[]; error?: string }, stderr));
      } catch {
        const last = stderr.trim().split('\n').pop() ?? '';
        resolve({ name, works: false, reason: `the probe process died (${signal ?? `exit code ${code}`})${last ? `: ${failureReason(last)}` : ''}` });
      }
    });
    child.stdin.end(JSON.stringify(job));
  });
}

/**
 * Probes one backend: creates a session on the tiny model with that backend required (no CPU fallback) and
 * checks one run's result. Under plain Node the probe runs in a child process, so that a crashing or hanging
 * driver costs only that process. Electron's packaged app cannot start Node children (its runAsNode fuse is
 * off); there the probe runs in the calling process, which in the studio is the engine's own utility process.
 */
export async function probeBackend(backend: string, options: ProbeOptions = {}): Promise<BackendProbe> {
  const name = normalizeBackendName(backend);
  if (!process.versions['electron']) return probeInChild(name, options.timeoutMs ?? DEFAULT_TIMEOUT_MS);
  try {
    return judge(name, { output: await runProbeSession(probeModelBytes(), probeSessionOptions(name), PROBE_INPUT, PROBE_OUTPUT.name) });
  } catch (error) {
    return judge(name, { error: error instanceof Error ? error.message : String(error) });
  }
}

/** Probes every backend we know and any other that onnxruntime-node lists, one after the other, cpu first. */
export async function probeAllBackends(options: ProbeOptions = {}): Promise<BackendProbe[]> {
  const out: BackendProbe[] = [];
  for (const b of listSupportedBackends()) out.push(await probeBackend(b.name, options));
  return out;
}

// ----------------------------------------------------------------------------- auto

export interface AutoChoice {
  backend: string;
  /** True when the choice came from the cache file (no probe ran). */
  cached: boolean;
  /** What was probed to make the choice (in AUTO_ORDER, up to the chosen one). */
  probes: BackendProbe[];
  /** Set when auto ends on the CPU: a line for the user. */
  warning?: string;
}

interface CacheFile {
  key: string;
  backend: string;
  probes: BackendProbe[];
  probedAt: string;
}

/** The per-user cache file of the choice: $XDG_CACHE_HOME/latent-studio/backends.json or the OS's equivalent. */
export function defaultBackendCacheFile(): string {
  const base =
    process.platform === 'win32'
      ? (process.env['LOCALAPPDATA'] ?? path.join(os.homedir(), 'AppData', 'Local'))
      : process.platform === 'darwin'
        ? path.join(os.homedir(), 'Library', 'Caches')
        : (process.env['XDG_CACHE_HOME'] || path.join(os.homedir(), '.cache'));
  return path.join(base, 'latent-studio', 'backends.json');
}

/** The choice among probe results (in any order): the first of AUTO_ORDER that works, else cpu. */
export function autoChoiceFrom(probes: readonly BackendProbe[]): AutoChoice {
  const byName = new Map(probes.map((p) => [p.name, p]));
  const backend = AUTO_ORDER.find((name) => byName.get(name)?.works) ?? 'cpu';
  const tried = AUTO_ORDER.slice(0, AUTO_ORDER.indexOf(backend) + 1).flatMap((name) => byName.get(name) ?? []);
  return withWarning({ backend, cached: false, probes: tried });
}

function withWarning(choice: AutoChoice): AutoChoice {
  if (choice.backend !== 'cpu') return choice;
  // Name only the GPU backends this build has; dml on Linux is no news.
  const listed = new Set(listSupportedBackends().filter((b) => b.listed).map((b) => b.name));
  const failed = choice.probes.filter((p) => !p.works && listed.has(p.name)).map((p) => `${p.name}: ${p.reason ?? 'fails'}`);
  const why = failed.length > 0 ? ` (${failed.join('; ')})` : '';
  return { ...choice, warning: `backend auto (cpu): no GPU backend works on this machine${why}; running on the CPU. \`latent-studio backends\` says more.` };
}

async function readCache(file: string): Promise<CacheFile | undefined> {
  try {
    const data = JSON.parse(await readFile(file, 'utf8')) as Partial<CacheFile>;
    if (typeof data.key !== 'string' || typeof data.backend !== 'string' || !Array.isArray(data.probes)) return undefined;
    return data as CacheFile;
  } catch {
    return undefined;
  }
}

/** Remembers a choice (atomically: temp file + rename). A cache that cannot be written only costs a probe next time. */
export async function rememberAutoChoice(choice: AutoChoice, file = defaultBackendCacheFile()): Promise<void> {
  const data: CacheFile = { key: runtimeIdentity(), backend: choice.backend, probes: choice.probes, probedAt: new Date().toISOString() };
  try {
    await mkdir(path.dirname(file), { recursive: true });
    const tmp = `${file}.${process.pid}.tmp`;
    await writeFile(tmp, `${JSON.stringify(data, null, 2)}\n`, 'utf8');
    await rename(tmp, file);
  } catch {
    // Read-only home, full disk: auto still works, it probes again next time.
  }
}

/** Forgets the remembered choice (when it stopped working), so the next `auto` probes again. */
export async function forgetAutoChoice(file = defaultBackendCacheFile()): Promise<void> {
  await rm(file, { force: true });
}

const inFlight = new Map<string, Promise<AutoChoice>>();

/**
 * The backend `auto` means here: the remembered choice when the cache file was written for this
 * onnxruntime-node version and platform, else the first of AUTO_ORDER whose probe works (then remembered).
 * Concurrent callers (a model's three sessions) share one probe.
 */
export function chooseAutoBackend(options: ProbeOptions & { cacheFile?: string } = {}): Promise<AutoChoice> {
  const file = options.cacheFile ?? defaultBackendCacheFile();
  let pending = inFlight.get(file);
  if (!pending) {
    pending = resolveAuto(file, options).finally(() => inFlight.delete(file));
    inFlight.set(file, pending);
  }
  return pending;
}

async function resolveAuto(file: string, options: ProbeOptions): Promise<AutoChoice> {
  const cached = await readCache(file);
  if (cached && cached.key === runtimeIdentity() && (AUTO_ORDER as readonly string[]).includes(cached.backend)) {
    return withWarning({ backend: cached.backend, cached: true, probes: cached.probes });
  }
  const probes: BackendProbe[] = [];
  for (const name of AUTO_ORDER) {
    const probe = await probeBackend(name, options);
    probes.push(probe);
    if (probe.works) break;
  }
  const choice = autoChoiceFrom(probes);
  await rememberAutoChoice(choice, file);
  return choice;
}
