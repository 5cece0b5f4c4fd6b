// Downloads an ONNX Stable Diffusion repository from the hub into the models folder.
//
// Files go to `<models>/.downloads/<repo>@<revision>[~subfolder]/<file>.part`, resumed with HTTP Range on a
// re-run or after a dropped connection, checked (size; sha256 for LFS files), then renamed to `<file>`.
// Only when every file is there and the engine's inspectModel says the folder is supported is the staging
// folder renamed to `<models>/<name>` (one rename: a model is never half-registered).
import { createHash, type Hash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, open, readFile, rename, rm, stat, statfs, writeFile, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { inspectModel } from '../engine/model/inspect.js';
import { isAbortError } from '../engine/pipeline/errors.js';
import { cancelledError, ModelManagerError } from './errors.js';
import { HubClient, validateRepoId, type HubOptions } from './hub.js';
import { describeInstalled, SOURCE_FILE, STAGING_DIR, validateModelName, type InstalledModel } from './registry.js';
import { selectFiles, type PlannedFile } from './select.js';
import { formatBytes } from '../shared/format.js';

export interface DownloadProgress {
  repo: string;
  /** The file being downloaded (local path in the model folder). */
  file: string;
  /** 1-based. */
  fileIndex: number;
  fileCount: number;
  fileBytes: number;
  fileTotal: number;
  /** Bytes present for the whole model (including files finished earlier and resumed bytes). */
  bytes: number;
  totalBytes: number;
  /** Bytes per second over the last few seconds (0 until known). */
  bytesPerSecond: number;
  /** Time left at that speed (undefined until known). */
  etaMs?: number;
  /** 'listing' | 'downloading' | 'verifying' | 'registering'. */
  phase: 'listing' | 'downloading' | 'verifying' | 'registering';
}

export interface DownloadOptions extends HubOptions {
  repo: string;
  /** Default 'main'. */
  revision?: string;
  /** Repository folder holding model_index.json. */
  subfolder?: string;
  /** The models folder (created when missing). */
  modelsDir: string;
  /** Model folder name. Default: the repository name (+ '-' + subfolder's last part when given). */
  name?: string;
  signal?: AbortSignal;
  onProgress?: (p: DownloadProgress) => void;
  /** A line for the user (resuming, retrying...). */
  onLog?: (message: string) => void;
  /** Minimum time between two progress calls (default 250 ms); file ends always report. */
  progressIntervalMs?: number;
  /** Attempts per file without any progress before giving up (default 5). */
  maxRetries?: number;
  /** First backoff (doubles each time, capped at 30 s). Default 1000 ms. */
  retryDelayMs?: number;
  /** Free-space check (default fs.statfs on the models folder). Returns bytes available. */
  freeSpace?: (dir: string) => Promise<number>;
}

export interface DownloadResult {
  model: InstalledModel;
  name: string;
  dir: string;
  files: number;
  totalBytes: number;
  /** Bytes fetched by this run (less than totalBytes when resumed). */
  downloadedBytes: number;
  elapsedMs: number;
}

interface Manifest {
  repo: string;
  revision: string;
  subfolder?: string;
  endpoint: string;
  /** local path → expected sha256/size of the .part file being filled (a changed tree discards it). */
  files: Record<string, { size: number; oid?: string; verified?: boolean }>;
}

const MANIFEST = '.manifest.json';

export function defaultModelName(repo: string, subfolder?: string): string {
  const base = repo.split('/').pop() ?? repo;
  const sub = subfolder?.split('/').filter(Boolean).pop();
  return validateModelName(sub ? `${base}-${sub}` : base);
}

export function stagingId(repo: string, revision: string, subfolder?: string): string {
  const safe = (s: string): string => s.replace(/[^A-Za-z0-9._-]+/g, '_');
  return `${safe(repo.replace('/', '--'))}@${safe(revision)}${subfolder ? `~${safe(subfolder)}` : ''}`;
}

async function fileSize(p: string): Promise<number | null> {
  try {
    const s = await stat(p);
    return s.isFile() ? s.size : null;
  } catch {
    return null;
  }
}

async function hashFile(p: string, hash: Hash, signal?: AbortSignal): Promise<void> {
  const stream = createReadStream(p, { highWaterMark: 1 << 20 });
  for await (const chunk of stream) {
    if (signal?.aborted) {
      stream.destroy();
      throw cancelledError();
    }
    hash.update(chunk as Buffer);
  }
}

async function defaultFreeSpace(dir: string): Promise<number> {
  const s = await statfs(dir);
  return Number(s.bavail) * Number(s.bsize);
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(cancelledError());
    const t = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = (): void => {
      clearTimeout(t);
      reject(cancelledError());
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}


/** A transient failure worth retrying (the caller resumes from the .part size). */
class Retryable extends Error {}

/** Speed over a sliding window of samples. */
class SpeedMeter {
  private samples: Array<{ t: number; bytes: number }> = [];
  constructor(private readonly windowMs = 5000) {}
  add(t: number, bytes: number): void {
    this.samples.push({ t, bytes });
    while (this.samples.length > 2 && t - this.samples[0]!.t > this.windowMs) this.samples.shift();
  }
  /** Bytes per second (0 when unknown). */
  rate(): number {
    if (this.samples.length < 2) return 0;
    const a = this.samples[0]!;
    const b = this.samples[this.samples.length - 1]!;
    const dt = b.t - a.t;
    return dt > 0 ? ((b.bytes - a.bytes) * 1000) / dt : 0;
  }
}

export async function downloadModel(options: DownloadOptions): Promise<DownloadResult> {
  const started = performance.now();
  const repo = options.repo.trim();
  validateRepoId(repo);
  const revision = options.revision?.trim() || 'main';
  const subfolder = options.subfolder?.replace(/^\/+|\/+$/g, '') || undefined;
  if (subfolder && subfolder.split('/').some((s) => s === '..' || s === '.')) throw new ModelManagerError('invalid', `Bad --subfolder "${options.subfolder}".`);
  const name = options.name !== undefined ? validateModelName(options.name) : defaultModelName(repo, subfolder);
  const modelsDir = path.resolve(options.modelsDir);
  const target = path.join(modelsDir, name);
  const signal = options.signal;
  const log = options.onLog ?? (() => undefined);
  const maxRetries = options.maxRetries ?? 5;
  const retryDelay = options.retryDelayMs ?? 1000;
  const interval = options.progressIntervalMs ?? 250;
  if (signal?.aborted) throw cancelledError();

  if (await stat(target).then(() => true, () => false)) {
    throw new ModelManagerError('exists', `A model named "${name}" is already in ${modelsDir}; remove it first or pick another name (--name).`, { file: target });
  }

  const hub = new HubClient(options);
  let releaseLock: (() => Promise<void>) | null = null;
  try {
    options.onProgress?.({ repo, file: '', fileIndex: 0, fileCount: 0, fileBytes: 0, fileTotal: 0, bytes: 0, totalBytes: 0, bytesPerSecond: 0, phase: 'listing' });
    let tree;
    try {
      tree = await hub.listFiles(repo, revision, { ...(subfolder ? { subfolder } : {}), ...(signal ? { signal } : {}) });
    } catch (error) {
      throw wrapNetwork(error, `listing ${repo}`, signal);
    }
    const files = selectFiles(tree, repo, subfolder);
    const totalBytes = files.reduce((a, f) => a + f.size, 0);

    const staging = path.join(modelsDir, STAGING_DIR, stagingId(repo, revision, subfolder));
    await mkdir(staging, { recursive: true });
    releaseLock = await takeLock(path.join(staging, LOCK), repo);
    const manifestFile = path.join(staging, MANIFEST);
    let manifest: Manifest = { repo, revision, endpoint: hub.endpoint, files: {}, ...(subfolder ? { subfolder } : {}) };
    try {
      const old = JSON.parse(await readFile(manifestFile, 'utf8')) as Manifest;
      if (old.repo === repo && old.revision === revision && old.files) manifest = { ...manifest, files: old.files };
    } catch {
      // first run
    }
    const saveManifest = (): Promise<void> => writeFile(manifestFile, `${JSON.stringify(manifest, null, 2)}\n`);

    // What is already there (finished files and .part files) counts as done for the space check and progress.
    let present = 0;
    for (const f of files) {
      const prev = manifest.files[f.local];
      const oid = f.sha256 ?? f.gitSha1;
      const same = prev && prev.size === f.size && prev.oid === oid;
      if (!same) {
        // The tree changed (new revision of main): what we had for this file is of no use.
        if (prev) {
          await rm(path.join(staging, f.local), { force: true });
          await rm(path.join(staging, `${f.local}.part`), { force: true });
        }
        manifest.files[f.local] = { size: f.size, ...(oid ? { oid } : {}) };
        continue;
      }
      const done = await fileSize(path.join(staging, f.local));
      if (done === f.size && prev.verified) present += f.size;
      else present += Math.min(f.size, (await fileSize(path.join(staging, `${f.local}.part`))) ?? 0);
    }
    await saveManifest();

    const needed = totalBytes - present;
    const free = await (options.freeSpace ?? defaultFreeSpace)(modelsDir);
    const margin = 16 * 1024 * 1024;
    if (needed + margin > free) {
      throw new ModelManagerError(
        'no-space',
        `Not enough disk space in ${modelsDir}: ${repo} needs ${formatBytes(needed)} more (${formatBytes(totalBytes)} in all), only ${formatBytes(free)} is free.`,
        { file: modelsDir },
      );
    }
    if (present > 0) log(`Resuming ${repo}: ${formatBytes(present)} of ${formatBytes(totalBytes)} already here.`);

    const speed = new SpeedMeter();
    let bytesDone = present;
    let downloaded = 0;
    let lastReport = 0;
    speed.add(performance.now(), bytesDone);
    const report = (phase: DownloadProgress['phase'], f: PlannedFile, index: number, fileBytes: number, force = false): void => {
      const now = performance.now();
      speed.add(now, bytesDone);
      if (!force && now - lastReport < interval) return;
      lastReport = now;
      const rate = speed.rate();
      const p: DownloadProgress = {
        repo,
        file: f.local,
        fileIndex: index + 1,
        fileCount: files.length,
        fileBytes,
        fileTotal: f.size,
        bytes: bytesDone,
        totalBytes,
        bytesPerSecond: Math.round(rate),
        phase,
      };
      if (rate > 0) p.etaMs = Math.round(((totalBytes - bytesDone) / rate) * 1000);
      options.onProgress?.(p);
    };

    for (let i = 0; i < files.length; i++) {
      if (signal?.aborted) throw cancelledError();
      const f = files[i]!;
      const finalPath = path.join(staging, f.local);
      const entry = manifest.files[f.local]!;
      if (entry.verified && (await fileSize(finalPath)) === f.size) {
        report('downloading', f, i, f.size, true);
        continue;
      }
      await mkdir(path.dirname(finalPath), { recursive: true });
      const partPath = `${finalPath}.part`;
      const counted = Math.min(f.size, (await fileSize(partPath)) ?? 0);
      // bytesDone already includes `counted`; the fetcher reports absolute positions within the file.
      let fileBase = counted;
      entry.verified = false;
      await fetchFile(hub, repo, revision, f, partPath, {
        ...(signal ? { signal } : {}),
        maxRetries,
        retryDelay,
        log,
        onBytes: (position, fresh) => {
          bytesDone += position - fileBase;
          fileBase = position;
          downloaded += fresh;
          report('downloading', f, i, position, false);
        },
      });
      report('verifying', f, i, f.size, true);
      await rename(partPath, finalPath);
      entry.verified = true;
      await saveManifest();
    }

    // Register: the engine must be able to use it, else keep the staging folder for inspection.
    const last = files[files.length - 1]!;
    report('registering', last, files.length - 1, last.size, true);
    const inspection = await inspectModel(staging);
    if (!inspection.supported) {
      throw new ModelManagerError(
        'unsupported',
        `Every file of ${repo} arrived, but the engine cannot use it: ${inspection.problems.join('; ') || 'unsupported model'}. The files are kept in ${staging}.`,
        { file: staging, details: inspection.problems },
      );
    }
    await rm(manifestFile, { force: true });
    await releaseLock();
    releaseLock = null;
    await writeFile(
      path.join(staging, SOURCE_FILE),
      `${JSON.stringify({ repo, revision, ...(subfolder ? { subfolder } : {}), endpoint: hub.endpoint, downloadedAt: new Date().toISOString() }, null, 2)}\n`,
    );
    if (await stat(target).then(() => true, () => false)) {
      throw new ModelManagerError('exists', `A model named "${name}" appeared in ${modelsDir} during the download; the files are kept in ${staging}.`, { file: target });
    }
    await rename(staging, target);
    await rm(path.join(modelsDir, STAGING_DIR), { recursive: false }).catch(() => undefined); // only if empty
    return {
      model: await describeInstalled(target),
      name,
      dir: target,
      files: files.length,
      totalBytes,
      downloadedBytes: downloaded,
      elapsedMs: Math.round(performance.now() - started),
    };
  } finally {
    await releaseLock?.();
    await hub.close();
  }
}

const LOCK = '.lock';

/** One download per staging folder across processes: a lock file with our pid (a dead owner's lock is taken over). */
async function takeLock(file: string, repo: string): Promise<() => Promise<void>> {
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      await writeFile(file, String(process.pid), { flag: 'wx' });
      return () => rm(file, { force: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const pid = Number((await readFile(file, 'utf8').catch(() => '')).trim());
      let alive = false;
      if (Number.isInteger(pid) && pid > 0 && pid !== process.pid) {
        try {
          process.kill(pid, 0);
          alive = true;
        } catch (e) {
          alive = (e as NodeJS.ErrnoException).code === 'EPERM';
        }
      }
      if (alive) throw new ModelManagerError('busy', `${repo} is already being downloaded by another process (pid ${pid}); wait for it or stop it first.`, { file });
      if (pid === process.pid) throw new ModelManagerError('busy', `${repo} is already being downloaded.`, { file });
      await rm(file, { force: true }); // stale: its process is gone
    }
  }
  throw new ModelManagerError('busy', `Could not lock ${file}.`, { file });
}

function wrapNetwork(error: unknown, what: string, signal?: AbortSignal): Error {
  if (signal?.aborted || isAbortError(error)) return cancelledError();
  if (error instanceof ModelManagerError) return error;
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  const detail = cause?.code ? `${cause.code}${cause.message ? `: ${cause.message}` : ''}` : (error as Error).message;
  return new ModelManagerError('network', `Network error while ${what}: ${detail}`, { cause: error });
}

interface FetchFileOptions {
  signal?: AbortSignal;
  maxRetries: number;
  retryDelay: number;
  log: (message: string) => void;
  /** position: bytes of the file now in the .part; fresh: bytes received since the last call. */
  onBytes: (position: number, fresh: number) => void;
}

/**
 * Fills `partPath` up to f.size (resuming from its current size), checks size and sha256. Retries dropped
 * connections and 5xx/429 with backoff; gives up after maxRetries attempts in a row that brought nothing.
 */
async function fetchFile(hub: HubClient, repo: string, revision: string, f: PlannedFile, partPath: string, o: FetchFileOptions): Promise<void> {
  const url = hub.fileUrl(repo, revision, f.path);
  let failures = 0;
  // Hash of what is in the .part so far (recomputed from disk when resuming).
  let hash: Hash | null = null;
  let hashed = 0;
  for (;;) {
    if (o.signal?.aborted) throw cancelledError();
    let position = (await fileSize(partPath)) ?? 0;
    if (position > f.size) {
      await rm(partPath, { force: true });
      position = 0;
    }
    if (hasDigest(f) && (hash === null || hashed !== position)) {
      hash = newHash(f);
      if (position > 0) await hashFile(partPath, hash, o.signal);
      hashed = position;
    }
    if (position === f.size && f.size > 0) {
      // Complete already (e.g. a run stopped between the last byte and the rename).
      o.onBytes(position, 0);
      return verify(f, partPath, hash);
    }
    let gotBytes = 0;
    try {
      const headers: Record<string, string> = position > 0 ? { range: `bytes=${position}-` } : {};
      // No compression: Range and sizes are about the stored bytes.
      headers['accept-encoding'] = 'identity';
      let res;
      try {
        res = await hub.get(url, { headers, ...(o.signal ? { signal: o.signal } : {}) });
      } catch (error) {
        if (o.signal?.aborted || isAbortError(error)) throw cancelledError();
        throw new Retryable(describeCause(error));
      }
      if (res.status === 416) {
        await res.body?.cancel().catch(() => undefined);
        // Our .part is not a prefix the server can continue: start over.
        o.log(`${f.local}: the server refused to resume (HTTP 416); starting the file over.`);
        await rm(partPath, { force: true });
        hash = null;
        failures++;
        if (failures > o.maxRetries) throw new ModelManagerError('http', `${f.local}: HTTP 416 (range not satisfiable) again and again from ${url}.`);
        continue;
      }
      if (res.status === 404) {
        await res.body?.cancel().catch(() => undefined);
        throw new ModelManagerError('file-not-found', `${repo}: ${f.path} was not found (HTTP 404 from ${url}); the repository may have changed, run the download again.`, { file: f.path });
      }
      if (res.status === 401 || res.status === 403) {
        await res.body?.cancel().catch(() => undefined);
        throw new ModelManagerError('unauthorized', `${repo}: access to ${f.path} was refused (HTTP ${res.status}); ${hub.token ? 'the token has no access (gated repository? accept its terms on the hub)' : 'a token is needed (HF_TOKEN or --token)'}.`);
      }
      if (res.status >= 500 || res.status === 429 || res.status === 408) {
        await res.body?.cancel().catch(() => undefined);
        throw new Retryable(`HTTP ${res.status}`);
      }
      if (res.status !== 200 && res.status !== 206) {
        await res.body?.cancel().catch(() => undefined);
        throw new ModelManagerError('http', `${repo}: unexpected HTTP ${res.status} ${res.statusText} for ${f.path} (${url}).`);
      }
      let append = false;
      if (res.status === 206) {
        const m = /bytes\s+(\d+)-(\d+)?\/(\d+|\*)/i.exec(res.headers.get('content-range') ?? '');
        if (m && Number(m[1]) === position) append = true;
        else {
          // A range we did not ask for: start over.
          await res.body?.cancel().catch(() => undefined);
          await rm(partPath, { force: true });
          hash = null;
          throw new Retryable(`unexpected Content-Range "${res.headers.get('content-range') ?? ''}"`);
        }
      } else if (position > 0) {
        o.log(`${f.local}: the server does not support resuming; starting the file over.`);
      }
      if (!append) {
        position = 0;
        if (hasDigest(f)) {
          hash = newHash(f);
          hashed = 0;
        }
      }
      let fh: FileHandle;
      try {
        fh = await open(partPath, append ? 'a' : 'w');
      } catch (error) {
        await res.body?.cancel().catch(() => undefined);
        throw ioError(error, partPath);
      }
      o.onBytes(position, 0);
      try {
        if (!res.body) throw new Retryable('empty body');
        try {
          for await (const chunk of res.body) {
            const buf = chunk as Uint8Array;
            if (position + buf.byteLength > f.size) {
              throw new ModelManagerError('checksum', `${repo}: ${f.path} is larger than the ${f.size} bytes the repository lists; not registered.`, { file: partPath });
            }
            try {
              await fh.write(buf);
            } catch (error) {
              throw ioError(error, partPath);
            }
            hash?.update(buf);
            position += buf.byteLength;
            hashed = position;
            gotBytes += buf.byteLength;
            o.onBytes(position, buf.byteLength);
          }
        } catch (error) {
          if (error instanceof ModelManagerError) throw error;
          if (o.signal?.aborted || isAbortError(error)) throw cancelledError();
          throw new Retryable(describeCause(error));
        }
      } finally {
        await fh.close().catch(() => undefined);
      }
      if (position < f.size) throw new Retryable(`connection closed after ${position} of ${f.size} bytes`);
      return verify(f, partPath, hash);
    } catch (error) {
      if (!(error instanceof Retryable)) {
        if (error instanceof ModelManagerError && error.code === 'checksum') await rm(partPath, { force: true });
        throw error;
      }
      failures = gotBytes > 0 ? 1 : failures + 1;
      if (failures > o.maxRetries) {
        throw new ModelManagerError(
          'network',
          `Downloading ${f.path} from ${repo} failed ${failures} times in a row (last: ${error.message}). What arrived is kept: run the download again to resume.`,
          { file: partPath },
        );
      }
      const delay = Math.min(30_000, o.retryDelay * 2 ** (failures - 1));
      o.log(`${f.local}: ${error.message}; retrying in ${(delay / 1000).toFixed(1)}s (attempt ${failures + 1} of ${o.maxRetries + 1}).`);
      await sleep(delay, o.signal);
    }
  }
}

async function verify(f: PlannedFile, partPath: string, hash: Hash | null): Promise<void> {
  const size = (await fileSize(partPath)) ?? -1;
  if (size !== f.size) {
    await rm(partPath, { force: true });
    throw new ModelManagerError('checksum', `${f.path}: got ${size} bytes, the repository lists ${f.size}; the file was discarded and the model not registered.`, { file: f.path });
  }
  const expected = f.sha256 ?? f.gitSha1;
  if (expected && hash) {
    const digest = hash.digest('hex');
    if (digest !== expected) {
      await rm(partPath, { force: true });
      const kind = f.sha256 ? 'sha256' : 'git sha1';
      throw new ModelManagerError(
        'checksum',
        `${f.path}: ${kind} mismatch (expected ${expected}, got ${digest}); the file was discarded and the model not registered. Run the download again.`,
        { file: f.path },
      );
    }
  }
}

function hasDigest(f: PlannedFile): boolean {
  return f.sha256 !== undefined || f.gitSha1 !== undefined;
}

/** sha256 of the content (LFS), or git's blob sha1 ("blob <size>\0" + content). */
function newHash(f: PlannedFile): Hash {
  if (f.sha256) return createHash('sha256');
  const h = createHash('sha1');
  h.update(`blob ${f.size}\0`);
  return h;
}

function ioError(error: unknown, file: string): ModelManagerError {
  const e = error as NodeJS.ErrnoException;
  if (e.code === 'ENOSPC') {
    return new ModelManagerError('no-space', `The disk is full (ENOSPC) while writing ${file}. What was downloaded is kept: free some space and run the download again to resume.`, { file, cause: error });
  }
  return new ModelManagerError('io', `Cannot write ${file}: ${e.message}`, { file, cause: error });
}

function describeCause(error: unknown): string {
  const e = error as Error & { cause?: { code?: string; message?: string } };
  if (e.cause?.code) return `${e.cause.code}${e.cause.message ? ` (${e.cause.message})` : ''}`;
  return e.message || String(error);
}
