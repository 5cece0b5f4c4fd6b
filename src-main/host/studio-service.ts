// The studio service: host-agnostic (no Electron), shared by the Electron main process and the browser host.
// Owns one engine (worker) and a job queue: one job runs at a time, the others wait in order. Every request
// handler is a plain function (payload: unknown) => Promise<Result>, validated once with the contract's zod schemas
// (for jobs: the one generation request schema), then passed on typed. Events go to connected clients; live previews are gated
// per client: at most one frame in flight, newer frames replace an unsent one (stale frames are dropped), and
// the transport acks each frame once delivered.
import path from 'node:path';
import { resolveRequestSize, type NormalizedRequest } from '../engine/pipeline/request.js';
import type { GenerateResult, PreviewEvent } from '../engine/pipeline/types.js';
import { summarizePrompt } from '../shared/generate-request.js';
import { isAbortError } from '../engine/pipeline/errors.js';
import { serializeError } from '../engine/worker/protocol.js';
import {
  describeIssues,
  err,
  isChannel,
  ok,
  requestSchemas,
  type AppInfo,
  type BackendInfo,
  type CancelResult,
  type Channel,
  type EventName,
  type GenerateAccepted,
  type JobSummary,
  type ModelEntry,
  type ModelSummary,
  type ParsedGeneratePayload,
  type QueueState,
  type ResultImage,
  type ResponseOf,
  type Result,
  type Settings,
  type StudioError,
  type StudioEvents,
  type TokenCount,
  type TokenizeResult,
} from '../shared/contract.js';
import type { StudioEngine } from './engine.js';
import type { Thumbnailer } from '../gallery/png-lite.js';
import { GalleryHost } from './gallery-host.js';
import { ModelManagerHost, type ModelManagerHostOptions } from './model-manager-host.js';
import { HostError, inspectModelDir, listModels, resolveModelDir, type ModelRoots } from './models.js';
import { SettingsStore } from './settings.js';
import { TokenizerCache } from './tokens.js';

export type LogLevel = 'info' | 'warning' | 'error';

export interface StudioServiceOptions {
  /** The engine. Its worker starts on the first job (or listBackends). The service closes it in close(). */
  engine: StudioEngine;
  /** Bundled models (resources/models). */
  bundledModelsDir: string;
  /** The settings JSON file (created on the first setSettings). */
  settingsFile: string;
  host: 'electron' | 'web';
  appName?: string;
  version?: string;
  /** A preview not acked within this time is treated as delivered (a reloaded page never acks). Default 5000 ms. */
  previewAckTimeoutMs?: number;
  log?: (level: LogLevel, message: string) => void;
  /** The gallery's output folder while settings.outputDir is null (default: <settings folder>/outputs). */
  defaultOutputDir?: string;
  /** The canvas autosave folder (default: <settings folder>/autosave). */
  autosaveDir?: string;
  /** Shows a file in the OS file manager (Electron: shell.showItemInFolder); the browser host has none. */
  revealFile?: (file: string) => void | boolean | Promise<void | boolean>;
  /** Gallery thumbnails (default: pure-JS PNG, no native code: right for the Electron main process). */
  thumbnailer?: Thumbnailer;
  /** Model manager: hub endpoint, env (proxies, HF_TOKEN), the models folder while settings.userModelsDir is null. */
  modelManager?: Pick<ModelManagerHostOptions, 'endpoint' | 'env' | 'defaultModelsDir' | 'progressIntervalMs' | 'retryDelayMs'>;
}

/** Where a client's events go (an Electron webContents, a WebSocket, a test). seq is set on previews only: ack it. */
export interface EventSink {
  send<E extends EventName>(event: E, payload: StudioEvents[E], seq?: number): void;
}

export interface StudioConnection {
  readonly id: number;
  /** Runs a request for this client (same as service.invoke). */
  invoke(channel: unknown, payload: unknown): Promise<Result<unknown>>;
  /** The client received preview `seq`. */
  ack(seq: number): void;
  /** Stop sending events to this client. */
  close(): void;
}

type Handler<C extends Channel> = (payload: unknown) => Promise<Result<ResponseOf<C>>>;
export type StudioHandlers = { [C in Channel]: Handler<C> };

interface Job {
  id: string;
  summary: JobSummary;
  request: NormalizedRequest;
  controller: AbortController;
  /** cancel() reported it as cancelled: whatever the engine does next, the job ends as jobCancelled. */
  cancelled: boolean;
}

type PreviewPayload = StudioEvents['preview'];

class Client implements StudioConnection {
  private seq = 0;
  private inFlight: { seq: number; timer: ReturnType<typeof setTimeout> } | null = null;
  private pending: PreviewPayload | null = null;
  closed = false;

  constructor(
    readonly id: number,
    private readonly sink: EventSink,
    private readonly service: StudioService,
    private readonly ackTimeoutMs: number,
  ) {}

  invoke(channel: unknown, payload: unknown): Promise<Result<unknown>> {
    return this.service.invoke(channel, payload);
  }

  send<E extends EventName>(event: E, payload: StudioEvents[E]): void {
    if (this.closed) return;
    try {
      this.sink.send(event, payload);
    } catch {
      // a sink that throws (closed socket, destroyed window) is the transport's problem
    }
  }

  preview(payload: PreviewPayload): void {
    if (this.closed) return;
    if (this.inFlight) {
      this.pending = payload;
      return;
    }
    const seq = ++this.seq;
    const timer = setTimeout(() => this.ack(seq), this.ackTimeoutMs);
    timer.unref?.();
    this.inFlight = { seq, timer };
    try {
      this.sink.send('preview', payload, seq);
    } catch {
      this.ack(seq);
    }
  }

  ack(seq: number): void {
    if (!this.inFlight || this.inFlight.seq !== seq) return;
    clearTimeout(this.inFlight.timer);
    this.inFlight = null;
    const next = this.pending;
    this.pending = null;
    if (next) this.preview(next);
  }

  /** The job ended: an unsent preview of it is stale. */
  dropPending(jobId: string): void {
    if (this.pending?.jobId === jobId) this.pending = null;
  }

  close(): void {
    this.closed = true;
    if (this.inFlight) clearTimeout(this.inFlight.timer);
    this.inFlight = null;
    this.pending = null;
    this.service.disconnect(this);
  }
}

/** A StudioError for the renderer: HostErrors as they are, others with the engine worker's wording (serializeError). */
function toStudioError(error: unknown): StudioError {
  if (error instanceof HostError) return error.toStudioError();
  const { code, message, file } = serializeError(error);
  return { code: code === 'worker-exited' || code === 'worker-start' || code === 'closed' ? 'engine-unavailable' : code, message, ...(file !== undefined ? { file } : {}) };
}

const KNOWN_BACKENDS = ['cpu', 'cuda', 'dml', 'coreml', 'webgpu', 'tensorrt'];

export class StudioService {
  readonly handlers: StudioHandlers;
  readonly settings: SettingsStore;
  /** Problems found at start (e.g. a corrupt settings file), also sent to each client as a notice when it connects. */
  readonly startupWarnings: string[] = [];
  /** The gallery (output folder, index) and the canvas autosave. */
  readonly gallery: GalleryHost;
  /** Models folder (import, remove) and hub downloads. */
  readonly modelManager: ModelManagerHost;

  private readonly clients = new Set<Client>();
  private readonly queue: Job[] = [];
  private running: Job | null = null;
  private nextJob = 1;
  private nextClient = 1;
  private closed = false;
  /** The notice of what backend 'auto' runs on is sent once per session. */
  private autoBackendNoticed = false;
  private readonly tokens = new TokenizerCache();
  private idleWaiters: Array<() => void> = [];

  private constructor(private readonly options: StudioServiceOptions) {
    this.settings = new SettingsStore(options.settingsFile);
    const configDir = path.dirname(options.settingsFile);
    this.gallery = new GalleryHost({
      defaultOutputDir: options.defaultOutputDir ?? path.join(configDir, 'outputs'),
      autosaveDir: options.autosaveDir ?? path.join(configDir, 'autosave'),
      outputDir: () => this.settings.value.outputDir,
      ...(options.revealFile ? { revealFile: options.revealFile } : {}),
      ...(options.thumbnailer ? { thumbnailer: options.thumbnailer } : {}),
      emit: (event, payload) => this.emit(event, payload),
      log: (level, message) => this.log(level, message),
    });
    this.modelManager = new ModelManagerHost({
      ...(options.modelManager ?? {}),
      roots: () => this.roots(),
      setUserModelsDir: async (dir) => {
        const settings = await this.settings.update({ userModelsDir: dir });
        this.emit('settingsChanged', { settings });
      },
      emit: (event, payload) => this.emit(event, payload),
      log: (level, message) => this.log(level, message),
    });
    this.handlers = {
      ...this.gallery.handlers((fn) => this.guard(fn)),
      ...this.modelManager.handlers((fn) => this.guard(fn)),
      generate: (p) => this.guard(() => this.generate(p)),
      cancel: (p) => this.guard(async () => this.cancel(p)),
      getQueue: (p) => this.guard(async () => (this.validate('getQueue', p), this.queueState())),
      listModels: (p) => this.guard(async () => (this.validate('listModels', p), this.listModels())),
      inspectModel: (p) => this.guard(() => this.inspectModel(p)),
      getSettings: (p) => this.guard(async () => (this.validate('getSettings', p), this.settings.value)),
      setSettings: (p) => this.guard(() => this.setSettings(p)),
      listBackends: (p) => this.guard(async () => (this.validate('listBackends', p), this.listBackends())),
      countTokens: (p) => this.guard(() => this.countTokens(p)),
      tokenize: (p) => this.guard(() => this.tokenize(p)),
      getAppInfo: (p) => this.guard(async () => (this.validate('getAppInfo', p), this.appInfo())),
    };
  }

  /** Loads the settings and returns a ready service (the engine worker starts with the first job). */
  static async create(options: StudioServiceOptions): Promise<StudioService> {
    const service = new StudioService(options);
    const loaded = await service.settings.load();
    for (const w of loaded.warnings) {
      service.startupWarnings.push(w);
      service.log('warning', w);
    }
    return service;
  }

  private log(level: LogLevel, message: string): void {
    this.options.log?.(level, message);
  }

  /* ---------------------------------------------------------------------------------------------- */
  /* Transport entry points                                                                         */
  /* ---------------------------------------------------------------------------------------------- */

  /** Runs one request. Never rejects: every failure is a Result with ok: false. */
  invoke(channel: unknown, payload: unknown): Promise<Result<unknown>> {
    if (!isChannel(channel)) return Promise.resolve(err('unknown-channel', `Unknown channel ${JSON.stringify(channel)}.`));
    if (this.closed) return Promise.resolve(err('engine-unavailable', 'The studio is shutting down.'));
    return (this.handlers[channel] as Handler<Channel>)(payload);
  }

  /** A new client: it gets every event from now on (and the start-up notices). */
  connect(sink: EventSink): StudioConnection {
    const client = new Client(this.nextClient++, sink, this, this.options.previewAckTimeoutMs ?? 5000);
    this.clients.add(client);
    for (const message of this.startupWarnings) client.send('notice', { level: 'warning', message, file: this.options.settingsFile });
    return client;
  }

  /** @internal (Client.close) */
  disconnect(client: StudioConnection): void {
    this.clients.delete(client as Client);
  }

  /** Resolves when no job runs or waits. */
  whenIdle(): Promise<void> {
    if (!this.running && this.queue.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Cancels every job, stops the engine worker. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.cancelJobs({ scope: 'all' });
    this.closed = true;
    await Promise.race([this.whenIdle(), new Promise((r) => setTimeout(r, 3000).unref())]);
    await this.options.engine.close().catch(() => undefined);
    await this.gallery.close().catch(() => undefined);
    await this.modelManager.close().catch(() => undefined);
    for (const c of [...this.clients]) c.close();
  }

  /* ---------------------------------------------------------------------------------------------- */
  /* Plumbing                                                                                       */
  /* ---------------------------------------------------------------------------------------------- */

  private async guard<T>(fn: () => Promise<T>): Promise<Result<T>> {
    try {
      return ok(await fn());
    } catch (error) {
      const e = toStudioError(error);
      if (e.code === 'internal') this.log('error', `internal error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
      return { ok: false, error: e };
    }
  }

  private validate<C extends Channel>(channel: C, payload: unknown): unknown {
    const schema = requestSchemas[channel];
    const r = schema.safeParse(payload);
    if (!r.success) {
      const details = describeIssues(r.error.issues as never);
      throw new HostError('invalid-payload', `Invalid ${channel} request: ${details.join('; ')}`, { details });
    }
    return r.data;
  }

  private emit<E extends EventName>(event: E, payload: StudioEvents[E]): void {
    for (const c of this.clients) c.send(event, payload);
  }

  private roots(): ModelRoots {
    return { bundledModelsDir: this.options.bundledModelsDir, settings: this.settings.value };
  }

  /* ---------------------------------------------------------------------------------------------- */
  /* Jobs                                                                                           */
  /* ---------------------------------------------------------------------------------------------- */

  private queueState(): QueueState {
    return { running: this.running ? { ...this.running.summary } : null, queued: this.queue.map((j) => ({ ...j.summary })) };
  }

  private async generate(payload: unknown): Promise<GenerateAccepted> {
    // The one check of the request (the engine worker trusts it); the settings fill what the payload leaves out.
    const parsed = this.validate('generate', this.withSettingsDefaults(payload)) as ParsedGeneratePayload;
    const { id: modelId, dir } = await resolveModelDir(parsed.model, this.roots());
    const inspection = await inspectModelDir(modelId, dir); // bad model → ok:false now, not a failed job later
    if (this.closed) throw new HostError('engine-unavailable', 'The studio is shutting down.');
    // The size, settled once: none given → the model's native size, as the engine would pick it.
    const request = resolveRequestSize({ ...parsed, model: dir }, inspection.defaultSize?.width);
    const jobId = `job-${this.nextJob++}`;
    const job: Job = {
      id: jobId,
      request,
      controller: new AbortController(),
      cancelled: false,
      summary: {
        jobId,
        state: 'queued',
        model: modelId,
        prompt: summarizePrompt(request.prompt),
        width: request.width,
        height: request.height,
        steps: request.steps,
        batchCount: request.batchCount,
        queuedAt: Date.now(),
      },
    };
    this.queue.push(job);
    const position = this.queue.length - 1 + (this.running ? 1 : 0);
    this.emit('jobQueued', { jobId, position, job: { ...job.summary } });
    this.emit('queue', this.queueState());
    queueMicrotask(() => this.pump());
    return { jobId, position };
  }

  /** The payload with the settings' backend, threads and preview rates where it gives none. */
  private withSettingsDefaults(payload: unknown): unknown {
    if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) return payload;
    const s = this.settings.value;
    const defaults: Record<string, unknown> = { backend: s.backend, previewEvery: s.previewEvery, decodePreviewEvery: s.decodePreviewEvery };
    if (s.threads > 0) defaults.threads = s.threads;
    const out: Record<string, unknown> = { ...payload };
    for (const [key, value] of Object.entries(defaults)) if (out[key] === undefined) out[key] = value;
    return out;
  }

  private cancel(payload: unknown): CancelResult {
    return this.cancelJobs(this.validate('cancel', payload) as { jobId: string } | { scope: 'queued' | 'all' });
  }

  private cancelJobs(target: { jobId: string } | { scope: 'queued' | 'all' }): CancelResult {
    const cancelled: string[] = [];
    const dropQueued = (pred: (j: Job) => boolean): void => {
      for (let i = this.queue.length - 1; i >= 0; i--) {
        const job = this.queue[i]!;
        if (!pred(job)) continue;
        this.queue.splice(i, 1);
        job.cancelled = true;
        cancelled.unshift(job.id);
      }
    };
    if ('jobId' in target) {
      if (this.running?.id === target.jobId) {
        if (!this.running.cancelled) {
          this.running.cancelled = true;
          this.running.controller.abort();
          cancelled.push(target.jobId);
        }
      } else {
        dropQueued((j) => j.id === target.jobId);
        if (cancelled.length === 0) throw new HostError('job-not-found', `No running or queued job ${target.jobId} (it may have finished).`);
      }
    } else {
      if (target.scope === 'all' && this.running && !this.running.cancelled) {
        this.running.cancelled = true;
        this.running.controller.abort();
        cancelled.push(this.running.id);
      }
      dropQueued(() => true);
    }
    // Queued ones end now; the running one ends when the engine stops (pump emits its jobCancelled).
    for (const id of cancelled) if (id !== this.running?.id) this.emit('jobCancelled', { jobId: id });
    if (cancelled.length > 0) this.emit('queue', this.queueState());
    this.notifyIdle();
    return { cancelled };
  }

  private pump(): void {
    if (this.running || this.queue.length === 0) return;
    const job = this.queue.shift()!;
    this.running = job;
    job.summary.state = 'running';
    job.summary.startedAt = Date.now();
    this.emit('jobStarted', { jobId: job.id, startedAt: job.summary.startedAt });
    this.emit('queue', this.queueState());
    void this.runJob(job);
  }

  private async runJob(job: Job): Promise<void> {
    const started = performance.now();
    if (job.request.backend === 'auto') await this.noticeAutoBackend();
    // Each image is saved to the gallery (fsync'ed) and sent as soon as the engine finishes it, in batch order:
    // a crash, a cancel or an error later loses none of them.
    const images: ResultImage[] = [];
    let delivering: Promise<void> = Promise.resolve();
    const deliver = (result: GenerateResult, index: number): void => {
      delivering = delivering.then(async () => {
        const [saved] = await this.gallery.saveResults([result.png]);
        const image: ResultImage = { ...toResultImage(result), ...saved };
        images.push(image);
        this.emit('image', { jobId: job.id, index, image });
      });
    };
    try {
      try {
        await this.options.engine.generate(job.request, {
          signal: job.controller.signal,
          onProgress: (e) => {
            if (!job.cancelled) this.emit('progress', { jobId: job.id, image: e.image, step: e.step, totalSteps: e.totalSteps, elapsedMs: e.elapsedMs, etaMs: e.etaMs });
          },
          onPreview: (e: PreviewEvent) => {
            if (job.cancelled) return;
            const frame: PreviewPayload = { jobId: job.id, image: e.image, step: e.step, kind: e.kind, width: e.width, height: e.height, rgba: e.rgba };
            if (e.pictureWidth !== undefined && e.pictureHeight !== undefined) Object.assign(frame, { pictureWidth: e.pictureWidth, pictureHeight: e.pictureHeight });
            for (const c of this.clients) c.preview(frame);
          },
          onImage: deliver,
        });
      } finally {
        await delivering;
      }
      for (const c of this.clients) c.dropPending(job.id);
      if (job.cancelled) {
        this.emit('jobCancelled', { jobId: job.id });
      } else {
        this.emit('result', { jobId: job.id, images, elapsedMs: Math.round(performance.now() - started) });
      }
    } catch (error) {
      for (const c of this.clients) c.dropPending(job.id);
      if (job.cancelled || isAbortError(error)) {
        this.emit('jobCancelled', { jobId: job.id });
      } else {
        const e = toStudioError(error);
        if (e.file !== undefined && !path.isAbsolute(e.file)) e.file = path.join(job.request.model ?? '', e.file);
        this.log('warning', `${job.id} failed: ${e.code}: ${e.message}`);
        this.emit('jobError', { jobId: job.id, error: e });
      }
    } finally {
      this.running = null;
      this.emit('queue', this.queueState());
      if (!this.closed) this.pump();
      this.notifyIdle();
    }
  }

  /** Says once what 'auto' (the default backend) runs on: "auto (cpu)" with the reason when no GPU backend works. */
  private async noticeAutoBackend(): Promise<void> {
    if (this.autoBackendNoticed || !this.options.engine.chooseBackend) return;
    this.autoBackendNoticed = true;
    const choice = await this.options.engine.chooseBackend().catch(() => undefined);
    if (!choice) return;
    const message = choice.warning ?? `backend auto (${choice.backend})`;
    this.log(choice.warning ? 'warning' : 'info', message);
    this.emit('notice', { level: choice.warning ? 'warning' : 'info', message });
  }

  private notifyIdle(): void {
    if (this.running || this.queue.length > 0) return;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const w of waiters) w();
  }

  /* ---------------------------------------------------------------------------------------------- */
  /* Models, settings, tokens                                                                       */
  /* ---------------------------------------------------------------------------------------------- */

  private listModels(): Promise<ModelEntry[]> {
    return listModels(this.roots());
  }

  private async inspectModel(payload: unknown): Promise<ModelSummary> {
    const { model } = this.validate('inspectModel', payload) as { model: string };
    const { id, dir } = await resolveModelDir(model, this.roots());
    return inspectModelDir(id, dir);
  }

  private async setSettings(payload: unknown): Promise<Settings> {
    const patch = this.validate('setSettings', payload) as Partial<Settings>;
    for (const key of ['userModelsDir', 'outputDir'] as const) {
      const v = patch[key];
      if (typeof v === 'string' && !path.isAbsolute(v)) throw new HostError('invalid-payload', `${key} must be an absolute folder path, got "${v}"`, { details: [`${key}: must be an absolute path`] });
    }
    if (patch.modelDirs?.some((d) => !path.isAbsolute(d))) {
      throw new HostError('invalid-payload', 'modelDirs must hold absolute folder paths', { details: ['modelDirs: must be absolute paths'] });
    }
    let settings: Settings;
    try {
      settings = await this.settings.update(patch);
    } catch (error) {
      throw new HostError('settings', `Cannot save the settings to ${this.settings.file}: ${(error as Error).message}`, { file: this.settings.file });
    }
    this.emit('settingsChanged', { settings });
    return settings;
  }

  private async listBackends(): Promise<BackendInfo[]> {
    const reported = await this.options.engine.listBackends();
    const out = new Map<string, BackendInfo>();
    out.set('cpu', { name: 'cpu', listed: true, bundled: true });
    for (const b of reported) {
      const name = b.name.toLowerCase() === 'directml' ? 'dml' : b.name.toLowerCase();
      out.set(name, { name, listed: true, bundled: b.bundled });
    }
    for (const name of KNOWN_BACKENDS) if (!out.has(name)) out.set(name, { name, listed: false, bundled: false });
    return [...out.values()];
  }

  private async tokenModelDir(model: string | undefined): Promise<string> {
    const ref = model ?? this.settings.value.lastModel ?? undefined;
    if (ref !== undefined) return (await resolveModelDir(ref, this.roots())).dir;
    const first = (await this.listModels()).find((m) => !m.problem);
    if (!first) throw new HostError('no-tokenizer', 'No model to count tokens with: add a model first.');
    return first.dir;
  }

  private async countTokens(payload: unknown): Promise<TokenCount> {
    const p = this.validate('countTokens', payload) as { text: string; model?: string; emphasis?: boolean };
    return this.tokens.count(await this.tokenModelDir(p.model), p.text, p.emphasis ?? true);
  }

  private async tokenize(payload: unknown): Promise<TokenizeResult> {
    const p = this.validate('tokenize', payload) as { text: string; model?: string; emphasis?: boolean };
    return this.tokens.tokenize(await this.tokenModelDir(p.model), p.text, p.emphasis ?? true);
  }

  private appInfo(): AppInfo {
    return {
      name: this.options.appName ?? 'Latent Studio',
      version: this.options.version ?? '0.0.0',
      host: this.options.host,
      platform: process.platform,
      bundledModelsDir: this.options.bundledModelsDir,
      settingsFile: this.options.settingsFile,
    };
  }
}

function toResultImage(r: GenerateResult): ResultImage {
  return { png: r.png, width: r.width, height: r.height, seed: String(r.seed), infotext: r.infotext };
}
