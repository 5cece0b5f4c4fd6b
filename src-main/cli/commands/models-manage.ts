// `latent-studio models download|list|import|remove`: the models folder and hub downloads.
import path from 'node:path';
import {
  downloadModel,
  importModel,
  listInstalled,
  listPartialDownloads,
  ModelManagerError,
  removeModel,
  type DownloadProgress,
  type InstalledModel,
} from '../../models-manager/index.js';
import { resolveModelsDir } from '../../host/paths.js';
import { CliError, ExitCode } from '../errors.js';
import { formatSeconds } from '../progress.js';
import { formatBytes } from '../../shared/format.js';

export interface ModelsDirOption {
  modelsDir?: string;
}

export interface DownloadCliOptions extends ModelsDirOption {
  revision?: string;
  subfolder?: string;
  token?: string;
  name?: string;
  quiet?: boolean;
  json?: boolean;
}

/** Model manager errors → CLI errors with the documented exit codes. */
function toCliError(error: unknown): unknown {
  if (!(error instanceof ModelManagerError)) return error;
  switch (error.code) {
    case 'invalid':
    case 'repo-not-found':
    case 'not-onnx':
    case 'exists':
    case 'model-not-found':
    case 'unauthorized':
      return new CliError(error.message, ExitCode.usage, { cause: error });
    case 'unsupported':
      return new CliError(error.message, ExitCode.unsupported, { cause: error });
    case 'cancelled':
      return new CliError(error.message, ExitCode.interrupted, { cause: error });
    default:
      return new CliError(error.message, ExitCode.failure, { cause: error });
  }
}

async function modelsDirOf(options: ModelsDirOption): Promise<string> {
  return (await resolveModelsDir(options.modelsDir !== undefined ? { modelsDir: options.modelsDir } : {})).dir;
}

function speedText(bps: number): string {
  return bps > 0 ? `${formatBytes(Math.round(bps))}/s` : '-';
}

/** A one-line progress display: redrawn in place on a terminal, a line every few seconds otherwise. */
class DownloadLine {
  private lastFile = '';
  private lastPrint = 0;
  private drawn = false;
  constructor(
    private readonly stream: NodeJS.WriteStream,
    private readonly quiet: boolean,
  ) {}

  update(p: DownloadProgress): void {
    if (this.quiet || p.phase === 'listing') return;
    const pct = p.totalBytes > 0 ? ((100 * p.bytes) / p.totalBytes).toFixed(1) : '0.0';
    const text =
      `[${p.fileIndex}/${p.fileCount}] ${p.file}  ${formatBytes(p.bytes)} / ${formatBytes(p.totalBytes)} (${pct}%)` +
      `  ${speedText(p.bytesPerSecond)}  ETA ${formatSeconds(p.etaMs)}${p.phase === 'registering' ? '  registering...' : ''}`;
    if (this.stream.isTTY) {
      const width = Math.max(20, (this.stream.columns ?? 100) - 1);
      this.stream.write(`\r\x1b[2K${text.length > width ? `${text.slice(0, width - 1)}…` : text}`);
      this.drawn = true;
      return;
    }
    const now = Date.now();
    if (p.file !== this.lastFile || now - this.lastPrint > 5000 || p.phase === 'registering') {
      this.lastFile = p.file;
      this.lastPrint = now;
      this.stream.write(`${text}\n`);
    }
  }

  log(message: string): void {
    if (this.quiet) return;
    if (this.drawn) this.stream.write('\r\x1b[2K');
    this.drawn = false;
    this.stream.write(`${message}\n`);
  }

  stop(): void {
    if (this.drawn) this.stream.write('\r\x1b[2K');
    this.drawn = false;
  }
}

export async function runModelsDownload(repo: string, options: DownloadCliOptions, stdout: NodeJS.WritableStream, stderr: NodeJS.WriteStream = process.stderr): Promise<number> {
  const modelsDir = await modelsDirOf(options);
  const line = new DownloadLine(stderr, options.quiet === true);
  const controller = new AbortController();
  let signalCode: number = ExitCode.interrupted;
  const onSignal = (signal: NodeJS.Signals): void => {
    signalCode = signal === 'SIGTERM' ? ExitCode.terminated : ExitCode.interrupted;
    if (controller.signal.aborted) process.exit(signalCode);
    line.log('Cancelling... (what was downloaded is kept; run the same command again to resume)');
    controller.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  line.log(`Downloading ${repo}${options.revision ? `@${options.revision}` : ''}${options.subfolder ? ` (${options.subfolder})` : ''} into ${modelsDir}`);
  try {
    const r = await downloadModel({
      repo,
      modelsDir,
      ...(options.revision !== undefined ? { revision: options.revision } : {}),
      ...(options.subfolder !== undefined ? { subfolder: options.subfolder } : {}),
      ...(options.token !== undefined ? { token: options.token } : {}),
      ...(options.name !== undefined ? { name: options.name } : {}),
      signal: controller.signal,
      progressIntervalMs: stderr.isTTY ? 200 : 1000,
      onProgress: (p) => line.update(p),
      onLog: (m) => line.log(m),
    });
    line.stop();
    line.log(`Installed ${r.name}: ${r.files} files, ${formatBytes(r.totalBytes)} in ${formatSeconds(r.elapsedMs)} (${r.model.variant ?? 'unknown variant'})`);
    stdout.write(options.json ? `${JSON.stringify(r.model, null, 2)}\n` : `${r.dir}\n`);
    return ExitCode.ok;
  } catch (error) {
    line.stop();
    if (error instanceof ModelManagerError && error.code === 'cancelled') {
      throw new CliError('Download cancelled; what was downloaded is kept: run the same command again to resume.', signalCode);
    }
    throw toCliError(error);
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

function describeModel(m: InstalledModel): string {
  const flags = [m.supported ? (m.variant ?? 'supported') : 'NOT SUPPORTED', m.totalBytes ? formatBytes(m.totalBytes) : null, m.linkTarget ? `-> ${m.linkTarget}` : null, m.source ? `from ${m.source.repo}@${m.source.revision}` : null]
    .filter(Boolean)
    .join(', ');
  const lines = [`${m.name}  (${flags})`];
  if (!m.supported) for (const p of m.problems) lines.push(`    - ${p}`);
  return lines.join('\n');
}

export async function runModelsList(options: ModelsDirOption & { json?: boolean }, stdout: NodeJS.WritableStream): Promise<number> {
  const modelsDir = await modelsDirOf(options);
  try {
    const models = await listInstalled(modelsDir);
    const partial = await listPartialDownloads(modelsDir);
    if (options.json) {
      stdout.write(`${JSON.stringify({ modelsDir, models, partialDownloads: partial }, null, 2)}\n`);
      return ExitCode.ok;
    }
    stdout.write(`Models in ${modelsDir}:\n`);
    if (models.length === 0) stdout.write('  (none: latent-studio models download REPO_ID, or models import DIR)\n');
    for (const m of models) stdout.write(`${describeModel(m).replace(/^/gm, '  ')}\n`);
    if (partial.length > 0) {
      stdout.write('Unfinished downloads (run the download again to resume):\n');
      for (const p of partial) stdout.write(`  ${p.repo ?? p.id}${p.revision ? `@${p.revision}` : ''}  ${formatBytes(p.bytes)}  ${p.dir}\n`);
    }
    return ExitCode.ok;
  } catch (error) {
    throw toCliError(error);
  }
}

export async function runModelsImport(dir: string, options: ModelsDirOption & { name?: string; link?: boolean; json?: boolean }, stdout: NodeJS.WritableStream): Promise<number> {
  const modelsDir = await modelsDirOf(options);
  try {
    const m = await importModel(path.resolve(dir), { modelsDir, ...(options.name !== undefined ? { name: options.name } : {}), ...(options.link ? { link: true } : {}) });
    stdout.write(options.json ? `${JSON.stringify(m, null, 2)}\n` : `${m.dir}\n`);
    return ExitCode.ok;
  } catch (error) {
    throw toCliError(error);
  }
}

export async function runModelsRemove(name: string, options: ModelsDirOption, stdout: NodeJS.WritableStream): Promise<number> {
  const modelsDir = await modelsDirOf(options);
  try {
    const r = await removeModel(name, modelsDir);
    stdout.write(`Removed ${r.name}${r.linked ? ' (link only; its folder is untouched)' : ''}\n`);
    return ExitCode.ok;
  } catch (error) {
    throw toCliError(error);
  }
}
