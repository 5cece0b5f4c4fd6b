// `latent-studio generate`: one run of the pipeline through the engine worker.
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { EngineClient, type ModelRef } from '../../engine/worker/index.js';
import { GenerationAbortError, type GenerateResult, type PreviewEvent } from '../../engine/pipeline/index.js';
import { safeParseGenerateRequest, type ParsedRequest } from '../../shared/generate-request.js';
import { CliError, ExitCode, describeError, usageError } from '../errors.js';
import { formatBytes } from '../../shared/format.js';
import { encodeRgbaPng, readImageFile, type ImageFile } from '../images.js';
import { modelDirOrDefault } from '../model-arg.js';
import { checkOutPattern, DEFAULT_OUT_PATTERN, outputPath, removePendingTempFiles, writeOutputFile } from '../output.js';
import { createProgressReporter } from '../progress.js';

export interface GenerateOptions {
  model?: string;
  prompt?: string;
  negative?: string;
  init?: string;
  strength?: number;
  mask?: string;
  sampler?: string;
  steps?: number;
  cfg?: number;
  seed?: string;
  width?: number;
  height?: number;
  batch?: number;
  out?: string;
  previewDir?: string;
  backend?: string;
  threads?: number;
  maskBlur?: number;
  inpaintOnlyMasked?: boolean;
  inpaintPadding?: number;
  eta?: number;
  fit?: string;
  previewEvery?: number;
  lowMemory?: boolean;
  json?: boolean;
  quiet?: boolean;
}

/** Request field → the flag that sets it, for error messages. */
const FLAG_OF_FIELD: Record<string, string> = {
  model: '--model',
  prompt: '--prompt',
  negativePrompt: '--negative',
  initImage: '--init',
  strength: '--strength',
  mask: '--mask',
  sampler: '--sampler',
  steps: '--steps',
  cfgScale: '--cfg',
  seed: '--seed',
  width: '--width',
  height: '--height',
  batchCount: '--batch',
  backend: '--backend',
  threads: '--threads',
  maskBlur: '--mask-blur',
  inpaintOnlyMasked: '--inpaint-only-masked',
  inpaintPadding: '--inpaint-padding',
  eta: '--eta',
  initImageFit: '--fit',
  previewEvery: '--preview-every',
  cfgMode: '--low-memory',
};

interface IssueLike {
  /** The request field (dotted path), '' for the request as a whole. */
  field: string;
  message: string;
}

/** The first schema issue as one line that names the flag. */
export function formatSchemaIssues(issues: readonly IssueLike[]): string {
  const issue = issues[0];
  if (!issue) return 'invalid request';
  const field = issue.field.split('.')[0] ?? '';
  const flag = FLAG_OF_FIELD[field] ?? (field || 'request');
  const more = issues.length > 1 ? ` (and ${issues.length - 1} more problem${issues.length > 2 ? 's' : ''})` : '';
  return `${flag}: ${issue.message}${more}`;
}

const round8 = (x: number): number => Math.max(8, Math.round(x / 8) * 8);

/**
 * --width/--height as given. With --init and no size, the init image's size (to a multiple of 8);
 * with --init and one side, the other side follows the init image's aspect ratio.
 */
function outputSize(options: GenerateOptions, init: ImageFile | undefined): { width?: number; height?: number } {
  const { width, height } = options;
  if (!init || (width !== undefined && height !== undefined)) {
    return { ...(width !== undefined ? { width } : {}), ...(height !== undefined ? { height } : {}) };
  }
  if (width !== undefined) return { width, height: round8((width * init.height) / init.width) };
  if (height !== undefined) return { width: round8((height * init.width) / init.height), height };
  return { width: round8(init.width), height: round8(init.height) };
}

/** The flags as one generation request, checked once here: the engine worker runs it as it is. */
async function prepareRequest(options: GenerateOptions): Promise<ParsedRequest & { model: string }> {
  const modelDir = await modelDirOrDefault(options.model);
  if (options.prompt === undefined) throw usageError('--prompt TEXT is required');
  if (options.mask !== undefined && options.init === undefined) throw usageError('--mask needs --init (the image to inpaint)');
  if (options.strength !== undefined && options.init === undefined) throw usageError('--strength needs --init (img2img)');
  if ((options.width === undefined) !== (options.height === undefined) && options.init === undefined) {
    // One side alone is fine for the schema's defaults, but almost always a mistake.
    throw usageError(`${options.width === undefined ? '--width' : '--height'} is missing: give both --width and --height`);
  }

  const init = options.init !== undefined ? await readImageFile(options.init, '--init') : undefined;
  const mask = options.mask !== undefined ? await readImageFile(options.mask, '--mask') : undefined;
  if (init && mask && (init.width !== mask.width || init.height !== mask.height)) {
    throw usageError(
      `--mask '${mask.path}' is ${mask.width}x${mask.height} but --init '${init.path}' is ${init.width}x${init.height}: they must be the same size`,
    );
  }
  if (options.previewDir !== undefined) {
    try {
      await mkdir(options.previewDir, { recursive: true });
    } catch (error) {
      throw usageError(`--preview-dir '${options.previewDir}': ${describeError(error)}`);
    }
  }

  const previews = options.previewDir !== undefined;
  const raw: Record<string, unknown> = {
    model: modelDir,
    prompt: options.prompt,
    negativePrompt: options.negative,
    sampler: options.sampler,
    steps: options.steps,
    cfgScale: options.cfg,
    seed: options.seed,
    ...outputSize(options, init),
    batchCount: options.batch,
    initImage: init?.bytes,
    strength: options.strength,
    mask: mask?.bytes,
    maskBlur: options.maskBlur,
    inpaintOnlyMasked: options.inpaintOnlyMasked,
    inpaintPadding: options.inpaintPadding,
    eta: options.eta,
    initImageFit: options.fit,
    ...(options.lowMemory ? { cfgMode: 'sequential' } : {}),
    // Latent previews cost a little per step: only when someone looks at them.
    previewEvery: previews ? (options.previewEvery ?? 1) : 0,
  };
  for (const key of Object.keys(raw)) if (raw[key] === undefined) delete raw[key];

  const checked = safeParseGenerateRequest(raw);
  if (!checked.ok) throw usageError(formatSchemaIssues(checked.issues));
  return { ...checked.request, model: modelDir };
}

export async function runGenerate(options: GenerateOptions): Promise<number> {
  const request = await prepareRequest(options);
  const modelDir = request.model;
  const batchCount = request.batchCount;
  const pattern = options.out ?? DEFAULT_OUT_PATTERN;
  await checkOutPattern(pattern);
  const progress = createProgressReporter({ quiet: options.quiet === true });
  const controller = new AbortController();
  let signalCode: number = ExitCode.interrupted;
  let forced = false;
  const onSignal = (signal: NodeJS.Signals): void => {
    signalCode = signal === 'SIGTERM' ? ExitCode.terminated : ExitCode.interrupted;
    if (controller.signal.aborted) {
      // A second Ctrl+C: do not wait for the worker.
      forced = true;
      progress.stop();
      void removePendingTempFiles().finally(() => process.exit(signalCode));
      return;
    }
    progress.log('Cancelling... (Ctrl+C again to quit at once)');
    controller.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  // Preview frames and finished images are written as they arrive, each atomically.
  const previewWrites = new Set<Promise<void>>();
  let previewError: unknown;
  const outputs: Array<{ path: string; result: GenerateResult }> = [];
  let writeChain: Promise<void> = Promise.resolve();
  let writeError: unknown;
  const saveResult = (result: GenerateResult, index: number): void => {
    // The memory guard's choices change how the picture is made: say so once.
    const memory = result.memory;
    if (index === 0 && memory && (memory.vaeTiling || memory.sequentialCfg)) {
      const how = [memory.vaeTiling ? 'the VAE in tiles' : '', memory.sequentialCfg ? 'the two guidance passes one after the other' : ''].filter(Boolean).join(' and ');
      progress.log(`To fit in memory (${formatBytes(memory.availableBytes)} available), ran ${how}.`);
    }
    const file = outputPath(pattern, { index: index + 1, count: batchCount, seed: String(result.seed) });
    writeChain = writeChain.then(async () => {
      if (writeError !== undefined || controller.signal.aborted) return;
      if (outputs.some((o) => path.resolve(o.path) === path.resolve(file))) {
        writeError = usageError(`--out '${pattern}' names '${file}' twice: put {n} or {seed} in it`);
        controller.abort();
        return;
      }
      try {
        await writeOutputFile(file, result.png);
        outputs.push({ path: file, result });
      } catch (error) {
        writeError = new CliError(`cannot write '${file}': ${describeError(error)}`, ExitCode.failure);
        controller.abort();
      }
    });
  };
  const savePreview = (e: PreviewEvent): void => {
    const file = path.join(options.previewDir!, `preview-${e.image + 1}-${String(e.step).padStart(3, '0')}${e.kind === 'decoded' ? '-decoded' : ''}.png`);
    const write = encodeRgbaPng(e.rgba, e.width, e.height)
      .then((png) => writeOutputFile(file, png))
      .catch((error: unknown) => {
        previewError ??= error;
      })
      .finally(() => previewWrites.delete(write));
    previewWrites.add(write);
  };

  if (options.backend === 'auto') {
    // Resolved here, so that its fallback warning reaches the user (the engine's own warnings do not).
    const { chooseAutoBackend } = await import('../../engine/onnx/index.js');
    const choice = await chooseAutoBackend();
    if (choice.warning) process.stderr.write(`warning: ${choice.warning}\n`);
    options = { ...options, backend: choice.backend };
  } else if (options.backend !== undefined && options.backend !== 'cpu') {
    const warning = await backendWarning(options.backend);
    if (warning) process.stderr.write(`warning: ${warning}\n`);
  }

  let client: EngineClient | undefined;
  try {
    client = await EngineClient.start();
    const model: ModelRef = {
      dir: modelDir,
      ...(options.backend !== undefined ? { backend: options.backend } : {}),
      ...(options.threads !== undefined ? { threads: options.threads } : {}),
    };
    await client.generate(request, {
      model,
      signal: controller.signal,
      onProgress: (e) => {
        progress.update({ image: e.image + 1, images: batchCount, step: e.step, totalSteps: e.totalSteps, elapsedMs: e.elapsedMs, etaMs: e.etaMs });
      },
      ...(options.previewDir !== undefined ? { onPreview: savePreview } : {}),
      onImage: saveResult,
    });
    progress.stop();
    await writeChain;
    await Promise.all(previewWrites);
    if (writeError !== undefined) throw writeError;
    if (controller.signal.aborted) throw new GenerationAbortError();
    if (previewError !== undefined) process.stderr.write(`warning: a preview frame could not be saved: ${describeError(previewError)}\n`);
    printOutputs(outputs, options.json === true);
    return ExitCode.ok;
  } catch (error) {
    progress.stop();
    await writeChain.catch(() => undefined);
    await Promise.allSettled(previewWrites);
    await removePendingTempFiles();
    if (writeError !== undefined) {
      if (outputs.length > 0) printOutputs(outputs, options.json === true);
      throw writeError;
    }
    if (controller.signal.aborted) {
      if (outputs.length > 0) printOutputs(outputs, options.json === true);
      process.stderr.write(`cancelled${outputs.length > 0 ? ` (${outputs.length} finished image${outputs.length > 1 ? 's were' : ' was'} saved)` : ''}\n`);
      return signalCode;
    }
    // A batch that failed part-way keeps the images it finished: say where they are.
    if (outputs.length > 0) printOutputs(outputs, options.json === true);
    if (error instanceof CliError) throw error;
    throw engineFailure(error);
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    if (!forced) await client?.close().catch(() => undefined);
  }
}

function printOutputs(outputs: Array<{ path: string; result: GenerateResult }>, json: boolean): void {
  if (json) {
    const summary = outputs.map(({ path: p, result: r }) => ({ path: p, seed: r.seed, width: r.width, height: r.height, infotext: r.infotext }));
    process.stdout.write(`${JSON.stringify(summary)}\n`);
  } else {
    for (const o of outputs) process.stdout.write(`${o.path}\n`);
  }
}

/** Engine errors with a code for bad input (bad image, bad mask, invalid request, broken model) are usage errors. */
function engineFailure(error: unknown): CliError {
  const code = (error as { code?: unknown }).code;
  const file = (error as { file?: unknown }).file;
  const usageCodes = new Set(['too-large', 'invalid-request', 'unknown-sampler', 'bad-image', 'bad-mask', 'missing-dir', 'bad-argument']);
  const message = describeError(error) + (typeof file === 'string' && !describeError(error).includes(file) ? ` (${file})` : '');
  // A model folder that cannot be used is bad input too (ModelError), unless a session failed to run.
  const badModel = (error as { name?: unknown }).name === 'ModelError' && code !== 'session-failed';
  const usage = badModel || (typeof code === 'string' && usageCodes.has(code));
  return new CliError(message, usage ? ExitCode.usage : ExitCode.failure, { cause: error });
}

/**
 * The engine falls back to the CPU when a backend cannot be used, and does not report it to the
 * caller; say so up front when this onnxruntime-node build does not have the backend at all.
 */
async function backendWarning(backend: string): Promise<string | undefined> {
  const { listSupportedBackends } = await import('../../engine/onnx/index.js');
  const list = listSupportedBackends().filter((b) => b.listed);
  const found = list.find((b) => b.name === backend);
  if (!found) {
    return `--backend ${backend} is not available in this onnxruntime-node build (${process.platform}-${process.arch}: ${list.map((b) => b.name).join(', ')}); running on cpu instead`;
  }
  if (!found.bundled) return `--backend ${backend} needs provider libraries that onnxruntime-node does not bundle; if they are missing the engine runs on cpu`;
  return undefined;
}
