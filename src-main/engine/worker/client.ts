// The calling side of the engine worker: spawns it, sends requests, routes events, survives its death.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { fork, type ChildProcess } from 'node:child_process';
import { Worker, type ResourceLimits } from 'node:worker_threads';
import type { GenerateResult, ParsedRequest, PreviewEvent, ProgressEvent } from '../pipeline/index.js';
import type { ModelInspection } from '../model/index.js';
import { EngineError, type AutoChoice, type BackendInfo, type EngineEvent, type EngineRequest, type ModelRef, type PromptTokenIds } from './protocol.js';


/** Omit the request's id: the client assigns ids. */
type RequestBody = EngineRequest extends infer R ? (R extends { id: number } ? Omit<R, 'id'> : never) : never;

export interface EngineWorkerLocation {
  /** The worker module: dist's engine.worker.js, or (running from source) engine.worker.ts. */
  url: URL;
  /** Running from source: the worker first registers tsx's ESM loader (module.register), then imports `url`. */
  tsx?: URL;
}

function resolveTsxApi(): URL {
  const meta = import.meta as ImportMeta & { resolve?: (s: string) => string };
  try {
    const r = meta.resolve?.('tsx/esm/api');
    if (r && r.endsWith('.mjs')) return new URL(r);
  } catch {
    // fall through
  }
  // createRequire resolves the CommonJS entry; the ESM one sits next to it.
  const pkg = createRequire(import.meta.url).resolve('tsx/package.json');
  return pathToFileURL(path.join(path.dirname(pkg), 'dist/esm/api/index.mjs'));
}

/**
 * Where the worker module is, relative to this file: `engine.worker.js` next to the built client
 * (dist/engine/worker/), else `engine.worker.ts` next to the source client, loaded after registering
 * tsx's ESM loader in the worker (Node 20 does not apply `--import` hooks to a worker's entry) — the
 * way vitest and `tsx` run the project from source. The studio can hand `url` (the built .js) to
 * Electron's utilityProcess.fork.
 */
export function engineWorkerLocation(): EngineWorkerLocation {
  const js = new URL('./engine.worker.js', import.meta.url);
  if (existsSync(fileURLToPath(js))) return { url: js };
  const ts = new URL('./engine.worker.ts', import.meta.url);
  if (existsSync(fileURLToPath(ts))) return { url: ts, tsx: resolveTsxApi() };
  throw new Error(`engine worker not found next to ${fileURLToPath(import.meta.url)} (engine.worker.js or engine.worker.ts)`);
}

export interface EngineClientOptions {
  /** Default model for generate/tokenize calls that name none (and requests without `model`). */
  model?: ModelRef | string;
  /**
   * 'thread' (default): a worker_threads Worker. 'process': a forked child process — a crash or
   * kill of the engine (or onnxruntime) cannot take the calling process down, and it can be killed
   * at any moment. (onnxruntime-node aborts the whole process when a worker thread is terminated
   * while a session runs, so in 'thread' mode close()/restart() first cancel and wait for idle.) With `channel`,
   * the channel's own `isolation` counts.
   */
  isolation?: 'thread' | 'process';
  /** Override the worker module (default: engineWorkerLocation()). */
  workerUrl?: URL | string;
  /** Node flags for the worker. */
  execArgv?: string[];
  /** Thread mode only. */
  resourceLimits?: ResourceLimits;
  /** How long to wait for the worker's 'ready' message (default 60 s). */
  readyTimeoutMs?: number;
  /**
   * Runs the worker over this channel instead of spawning engine.worker here: called at every (re)start (the
   * studio's Electron utilityProcess, a worker thread it made). `isolation`, `workerUrl`, `execArgv` and
   * `resourceLimits` are then unused; the channel's own `isolation` says whether it may be stopped mid-run.
   */
  channel?: () => EngineChannel;
  /** The wording of the client's own errors, for hosts that show them to people (the studio). */
  messages?: {
    /** The message of calls made after close() (default 'The engine client is closed.'). */
    closed?: string;
    /** What a 'worker-exited' message says after the cause (default 'the request was lost. The next call starts a new worker.'). */
    workerExited?: string;
  };
}

export interface ClientGenerateOptions {
  /** Model to use; default request.model, then the client's default model. */
  model?: ModelRef | string;
  signal?: AbortSignal;
  onProgress?(e: ProgressEvent): void;
  onPreview?(e: PreviewEvent): void;
  /** Each finished image, as soon as it is done (before the promise resolves). */
  onImage?(result: GenerateResult, index: number): void;
}

interface Pending {
  type: string;
  resolve(value: unknown): void;
  reject(err: Error): void;
  onEvent?(e: EngineEvent): void;
}

/** How a worker ended: its exit code or the signal that killed it, and what it said before (if the channel knows). */
export interface EngineChannelExit {
  code: number | null;
  signal?: string | null;
  reason?: string;
}

/**
 * The calling side of one running engine worker (engine.worker on the far end of the port, see port.ts): a worker
 * thread, a forked child process, an Electron utilityProcess, or a fake in tests.
 */
export interface EngineChannel {
  post(message: EngineRequest): void;
  onMessage(handler: (message: EngineEvent) => void): void;
  /** Called once when the worker is gone (crash, exit, or terminate()). */
  onExit(handler: (info: EngineChannelExit) => void): void;
  /** An error of the worker itself (a thread's uncaught exception, a failed spawn): fails a start that is under way. */
  onError?(handler: (error: Error) => void): void;
  /** Stops it now (a thread: Worker.terminate; a process: kill). */
  terminate(): void | Promise<void>;
  /**
   * 'process': terminate() is safe at any moment. Anything else is treated as a worker thread, which must not be
   * terminated while onnxruntime runs (that aborts the whole process): the client cancels and waits for idle first.
   */
  readonly isolation?: 'thread' | 'process';
  /** Thread id or pid, where there is one. */
  readonly id?: number | undefined;
}

export interface EngineThreadOptions {
  execArgv?: string[];
  resourceLimits?: ResourceLimits;
}

/**
 * Starts the engine worker module in a worker thread; from source (loc.tsx), it registers tsx's ESM loader in the
 * thread first, then imports the module.
 */
export function spawnEngineThread(loc: EngineWorkerLocation, options: EngineThreadOptions = {}): Worker {
  const workerOptions = {
    execArgv: options.execArgv ?? [],
    ...(options.resourceLimits ? { resourceLimits: options.resourceLimits } : {}),
  };
  return loc.tsx
    ? new Worker(
        `import(${JSON.stringify(loc.tsx.href)}).then((m) => { m.register(); return import(${JSON.stringify(loc.url.href)}); })` +
          `.catch((e) => { console.error(e); process.exit(70); });`,
        { ...workerOptions, eval: true },
      )
    : new Worker(loc.url, workerOptions);
}

/** The engine worker in a worker thread; its exit carries the message of the uncaught error that ended it, if any. */
export function threadChannel(loc: EngineWorkerLocation, options: EngineThreadOptions = {}): EngineChannel {
  const worker = spawnEngineThread(loc, options);
  let reason: string | undefined;
  worker.on('error', (e) => {
    reason = e.message;
  });
  return {
    isolation: 'thread',
    id: worker.threadId,
    post: (m) => worker.postMessage(m),
    onMessage: (h) => worker.on('message', h),
    onError: (h) => worker.on('error', h),
    onExit: (h) => worker.on('exit', (code) => h({ code, ...(reason !== undefined ? { reason } : {}) })),
    terminate: async () => {
      await worker.terminate();
    },
  };
}

/** The engine worker in a forked child process: a crash or a kill cannot take the caller down, and its big allocations never stall the caller's event loop. */
export function processChannel(loc: EngineWorkerLocation, options: EngineClientOptions): EngineChannel {
  const execArgv = [...(options.execArgv ?? [])];
  if (loc.tsx) {
    // A child's main module does get --import hooks: tsx's loader (the package's main export).
    execArgv.push('--import', new URL('../../loader.mjs', loc.tsx).href);
  }
  const child: ChildProcess = fork(fileURLToPath(loc.url), [], { execArgv, serialization: 'advanced', stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  return {
    isolation: 'process',
    id: child.pid,
    post: (m) => {
      if (child.connected) child.send(m);
    },
    onMessage: (h) => child.on('message', (m) => h(m as EngineEvent)),
    onError: (h) => child.on('error', h),
    onExit: (h) => child.on('exit', (code, signal) => h({ code, signal })),
    terminate: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGKILL');
      }),
  };
}

function toRef(m: ModelRef | string | undefined): ModelRef | undefined {
  return typeof m === 'string' ? { dir: m } : m;
}

export class EngineClient {
  private channel: EngineChannel | undefined;
  private ready: Promise<void> | undefined;
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private closed = false;

  private constructor(private readonly options: EngineClientOptions) {}

  /** Spawns the worker and waits until it is ready. */
  static async start(options: EngineClientOptions = {}): Promise<EngineClient> {
    const client = new EngineClient(options);
    await client.spawn();
    return client;
  }

  /** A client whose worker starts on the first call (or startWorker()). */
  static create(options: EngineClientOptions = {}): EngineClient {
    return new EngineClient(options);
  }

  /** True while a worker is running. */
  get alive(): boolean {
    return this.channel !== undefined;
  }

  /** The worker's thread id ('thread') or pid ('process'); undefined when none runs. */
  get workerId(): number | undefined {
    return this.channel?.id;
  }

  /** Starts the worker unless it runs or is starting; resolves once it is ready. Rejects with code 'closed' after close(). */
  async startWorker(): Promise<void> {
    if (this.closed) throw this.closedError();
    await this.spawn();
  }

  private closedError(): EngineError {
    return new EngineError({ name: 'EngineError', code: 'closed', message: this.options.messages?.closed ?? 'The engine client is closed.' });
  }

  private openChannel(): EngineChannel {
    if (this.options.channel) return this.options.channel();
    const loc: EngineWorkerLocation =
      this.options.workerUrl !== undefined ? { url: new URL(String(this.options.workerUrl), pathToFileURL(process.cwd() + '/')) } : engineWorkerLocation();
    return this.options.isolation === 'process' ? processChannel(loc, this.options) : threadChannel(loc, this.options);
  }

  private spawn(): Promise<void> {
    if (this.ready) return this.ready;
    const channel = this.openChannel();
    this.channel = channel;
    let failure = '';
    const ready = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new EngineError({ name: 'EngineError', code: 'worker-start', message: 'The engine worker did not start in time.' })),
        this.options.readyTimeoutMs ?? 60_000,
      );
      timer.unref?.();
      channel.onMessage((msg) => {
        if (!msg || typeof msg !== 'object') return;
        if (msg.type === 'ready') {
          clearTimeout(timer);
          resolve();
          return;
        }
        const p = this.pending.get(msg.id);
        if (!p) return;
        if (msg.type === 'done') {
          this.pending.delete(msg.id);
          p.resolve(msg.value);
        } else if (msg.type === 'error') {
          this.pending.delete(msg.id);
          p.reject(new EngineError(msg.error));
        } else {
          p.onEvent?.(msg);
        }
      });
      channel.onError?.((err) => {
        failure = `: ${err.message}`;
        clearTimeout(timer);
        reject(new EngineError({ name: 'EngineError', code: 'worker-start', message: `The engine worker failed${failure}` }));
      });
      channel.onExit(({ code, signal, reason }) => {
        clearTimeout(timer);
        if (this.channel === channel) {
          this.channel = undefined;
          this.ready = undefined;
        }
        const how = `${signal ? `signal ${signal}` : `exit code ${code ?? 'none'}`}${reason ? `: ${reason}` : ''}`;
        const notice = this.options.messages?.workerExited ?? 'the request was lost. The next call starts a new worker.';
        const message = this.closed ? 'The engine was closed.' : `The engine worker stopped unexpectedly (${how})${failure}; ${notice}`;
        const error = new EngineError({ name: 'EngineError', code: this.closed ? 'closed' : 'worker-exited', message });
        reject(error);
        for (const [id, p] of [...this.pending]) {
          this.pending.delete(id);
          p.reject(error);
        }
      });
    });
    this.ready = ready;
    ready.catch(() => {
      if (this.channel === channel) {
        this.channel = undefined;
        this.ready = undefined;
        void channel.terminate();
      }
    });
    return ready;
  }

  private async call<T>(body: RequestBody, onEvent?: (e: EngineEvent) => void, signal?: AbortSignal): Promise<T> {
    if (this.closed) throw this.closedError();
    await this.spawn();
    const channel = this.channel!;
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      const onAbort = (): void => {
        if (this.pending.has(id)) channel.post({ id: this.nextId++, type: 'cancel', target: id });
      };
      this.pending.set(id, {
        type: body.type,
        resolve: (v) => {
          signal?.removeEventListener('abort', onAbort);
          resolve(v as T);
        },
        reject: (e) => {
          signal?.removeEventListener('abort', onAbort);
          reject(e);
        },
        ...(onEvent ? { onEvent } : {}),
      });
      channel.post({ ...body, id } as EngineRequest);
      if (signal) {
        if (signal.aborted) onAbort();
        else signal.addEventListener('abort', onAbort, { once: true });
      }
    });
  }

  /**
   * Runs a generation in the worker. `request` is checked once where it enters: parseGenerateRequest (or the
   * host's / CLI's check) makes a ParsedRequest, and the worker trusts it. Progress and preview events and each
   * finished image (onImage) arrive before the promise resolves; the PNGs and preview pixels are transferred,
   * not copied (thread mode). Cancel with `signal` (rejects with name 'AbortError', code 'cancelled'; images
   * already given to onImage stay delivered).
   */
  async generate(request: ParsedRequest, options: ClientGenerateOptions = {}): Promise<GenerateResult[]> {
    const results: GenerateResult[] = [];
    const model = toRef(options.model) ?? (request.model === undefined ? toRef(this.options.model) : undefined);
    if (options.signal?.aborted) {
      throw new EngineError({ name: 'AbortError', code: 'cancelled', message: 'Generation cancelled.' });
    }
    await this.call<void>(
      { type: 'generate', request, ...(model ? { model } : {}) },
      (e) => {
        if (e.type === 'progress') options.onProgress?.(e.event);
        else if (e.type === 'preview') options.onPreview?.(e.event);
        else if (e.type === 'result') {
          results[e.index] = e.result;
          options.onImage?.(e.result, e.index);
        }
      },
      options.signal,
    );
    return results;
  }

  inspectModel(dir: string): Promise<ModelInspection> {
    return this.call<ModelInspection>({ type: 'inspectModel', dir });
  }

  listBackends(): Promise<BackendInfo[]> {
    return this.call<BackendInfo[]>({ type: 'listBackends' });
  }

  /** The backend that `auto` stands for in the worker (probed there once, then remembered). */
  chooseBackend(): Promise<AutoChoice> {
    return this.call<AutoChoice>({ type: 'chooseBackend' });
  }

  /** Token count and ids of a prompt with a model's tokenizer (the model's sessions are opened and cached). */
  tokenize(text: string, model?: ModelRef | string): Promise<PromptTokenIds> {
    const ref = toRef(model) ?? toRef(this.options.model);
    if (!ref) return Promise.reject(new EngineError({ name: 'EngineError', code: 'no-model', message: 'tokenize needs a model folder' }));
    return this.call<PromptTokenIds>({ type: 'tokenize', text, model: ref });
  }

  /** Releases the worker's cached model sessions (all, or one folder's). */
  dispose(dir?: string): Promise<void> {
    return this.call<void>({ type: 'dispose', ...(dir !== undefined ? { dir } : {}) });
  }

  /** Cancels running generations and waits (up to timeoutMs) until no request is pending. */
  private async quiesce(timeoutMs: number): Promise<void> {
    const channel = this.channel;
    if (!channel) return;
    for (const [id, p] of this.pending) if (p.type === 'generate') channel.post({ id: this.nextId++, type: 'cancel', target: id });
    const deadline = Date.now() + timeoutMs;
    while (this.pending.size > 0 && this.channel === channel && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  }

  private async stopWorker(): Promise<void> {
    const channel = this.channel;
    if (!channel) return;
    // Terminating a worker thread inside onnxruntime's run() aborts the process: get idle first.
    if (channel.isolation !== 'process') await this.quiesce(30_000);
    await channel.terminate();
  }

  /**
   * Kills the worker at once, as a crash would (pending calls reject with 'worker-exited'); the next
   * call starts a new one. Process isolation only: a worker thread cannot be killed safely mid-run.
   */
  async kill(): Promise<void> {
    if ((this.channel ? this.channel.isolation : this.options.isolation) !== 'process') {
      throw new EngineError({ name: 'EngineError', code: 'unsupported', message: 'kill() needs isolation: "process"; use restart() for a worker thread' });
    }
    await this.channel?.terminate();
  }

  /** Cancels what runs, stops the worker and starts a fresh one. */
  async restart(): Promise<void> {
    await this.stopWorker();
    this.closed = false;
    await this.spawn();
  }

  /** Cancels what runs, disposes the models and stops the worker. Later calls reject with code 'closed'. */
  async close(): Promise<void> {
    if (this.closed) return;
    if (this.channel && this.ready) {
      try {
        await this.quiesce(10_000);
        await Promise.race([this.dispose(), new Promise((r) => setTimeout(r, 2000).unref())]);
      } catch {
        // closing anyway
      }
    }
    this.closed = true;
    await this.stopWorker();
  }
}
