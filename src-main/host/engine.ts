// The studio's view of the engine worker, over an abstract channel: a node worker thread (tests,
// `latent-studio serve`) or an Electron utilityProcess (the desktop app; see src-main/main/engine-process.main.ts).
// Speaks the engine's worker protocol (src-main/engine/worker/protocol.ts); the worker module is the engine's.
import { Worker } from 'node:worker_threads';
import type { GenerateRequest } from '../engine/pipeline/request.js';
import type { GenerateResult, PreviewEvent, ProgressEvent } from '../engine/pipeline/types.js';
import { engineWorkerLocation } from '../engine/worker/client.js';
import { EngineError, type BackendInfo, type EngineEvent, type EngineRequest, type ModelRef, type TokenizeResult } from '../engine/worker/protocol.js';

export interface EngineGenerateOptions {
  signal?: AbortSignal;
  onProgress?(e: ProgressEvent): void;
  onPreview?(e: PreviewEvent): void;
  onResult?(result: GenerateResult, index: number): void;
}

/** What the studio service needs from an engine. EngineClient (engine/worker) fits too. */
export interface StudioEngine {
  generate(request: GenerateRequest, options?: EngineGenerateOptions): Promise<GenerateResult[]>;
  listBackends(): Promise<Array<{ name: string; bundled: boolean }>>;
  dispose?(dir?: string): Promise<void>;
  close(): Promise<void>;
}

/** One running worker: a worker thread, an Electron utilityProcess, or a fake in tests. */
export interface WorkerChannel {
  post(message: EngineRequest): void;
  onMessage(handler: (message: EngineEvent) => void): void;
  /** Called once when the worker is gone (crash, exit, or terminate()). */
  onExit(handler: (info: { code: number | null; reason?: string }) => void): void;
  terminate(): void | Promise<void>;
}

export type WorkerChannelFactory = () => WorkerChannel;

/** The engine worker (engine.worker.js, or .ts through tsx from source) in a node worker thread. */
export function threadWorkerChannel(options: { workerUrl?: URL; execArgv?: string[] } = {}): WorkerChannel {
  // From source (vitest, tsx) the engine says where tsx's loader is: register it in the worker, then import the module.
  const loc = (options.workerUrl ? { url: options.workerUrl } : engineWorkerLocation()) as { url: URL; tsx?: URL; execArgv?: string[] };
  const execArgv = options.execArgv ?? loc.execArgv ?? [];
  const worker = loc.tsx
    ? new Worker(
        `import(${JSON.stringify(loc.tsx.href)}).then((m) => { m.register(); return import(${JSON.stringify(loc.url.href)}); })` +
          `.catch((e) => { console.error(e); process.exit(70); });`,
        { execArgv, eval: true },
      )
    : new Worker(loc.url, { execArgv });
  let reason: string | undefined;
  return {
    post: (m) => worker.postMessage(m),
    onMessage: (h) => worker.on('message', h),
    onExit: (h) => {
      worker.on('error', (e) => {
        reason = e.message;
      });
      worker.on('exit', (code) => h({ code, ...(reason !== undefined ? { reason } : {}) }));
    },
    terminate: async () => {
      await worker.terminate();
    },
  };
}

interface Pending {
  resolve(value: unknown): void;
  reject(err: Error): void;
  onEvent?(e: EngineEvent): void;
}

/**
 * An engine client over any WorkerChannel. Starts the worker on first use, restarts it on the next call after
 * a crash (the calls in flight reject with code 'worker-exited').
 */
export class ChannelEngineClient implements StudioEngine {
  private channel: WorkerChannel | undefined;
  private ready: Promise<void> | undefined;
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private closed = false;

  constructor(
    private readonly factory: WorkerChannelFactory,
    private readonly options: { readyTimeoutMs?: number } = {},
  ) {}

  get alive(): boolean {
    return this.channel !== undefined;
  }

  start(): Promise<void> {
    if (this.closed) return Promise.reject(new EngineError({ name: 'EngineError', code: 'closed', message: 'The engine is closed.' }));
    if (this.ready) return this.ready;
    let channel: WorkerChannel;
    try {
      channel = this.factory();
    } catch (error) {
      return Promise.reject(
        new EngineError({ name: 'EngineError', code: 'worker-start', message: `The engine worker could not start: ${error instanceof Error ? error.message : String(error)}` }),
      );
    }
    this.channel = channel;
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
      channel.onExit(({ code, reason }) => {
        clearTimeout(timer);
        if (this.channel === channel) {
          this.channel = undefined;
          this.ready = undefined;
        }
        const error = new EngineError(
          this.closed
            ? { name: 'EngineError', code: 'closed', message: 'The engine was closed.' }
            : {
                name: 'EngineError',
                code: 'worker-exited',
                message: `The engine worker stopped unexpectedly (exit code ${code ?? 'none'}${reason ? `: ${reason}` : ''}); it restarts with the next job.`,
              },
        );
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

  private async call<T>(body: Record<string, unknown>, onEvent?: (e: EngineEvent) => void, signal?: AbortSignal): Promise<T> {
    await this.start();
    const channel = this.channel!;
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      const onAbort = (): void => {
        if (this.pending.has(id)) channel.post({ id: this.nextId++, type: 'cancel', target: id });
      };
      this.pending.set(id, {
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

  async generate(request: GenerateRequest, options: EngineGenerateOptions = {}): Promise<GenerateResult[]> {
    if (options.signal?.aborted) throw new EngineError({ name: 'AbortError', code: 'cancelled', message: 'Generation cancelled.' });
    const results: GenerateResult[] = [];
    await this.call<void>(
      { type: 'generate', request },
      (e) => {
        if (e.type === 'progress') options.onProgress?.(e.event);
        else if (e.type === 'preview') options.onPreview?.(e.event);
        else if (e.type === 'result') {
          results[e.index] = e.result;
          options.onResult?.(e.result, e.index);
        }
      },
      options.signal,
    );
    return results;
  }

  listBackends(): Promise<BackendInfo[]> {
    return this.call<BackendInfo[]>({ type: 'listBackends' });
  }

  tokenize(text: string, model: ModelRef): Promise<TokenizeResult> {
    return this.call<TokenizeResult>({ type: 'tokenize', text, model });
  }

  dispose(dir?: string): Promise<void> {
    return this.call<void>({ type: 'dispose', ...(dir !== undefined ? { dir } : {}) });
  }

  /** Disposes the models (2 s at most) and stops the worker. */
  async close(): Promise<void> {
    if (this.closed) return;
    const channel = this.channel;
    if (channel && this.ready) {
      await Promise.race([this.dispose().catch(() => undefined), new Promise((r) => setTimeout(r, 2000).unref())]);
    }
    this.closed = true;
    if (channel) await channel.terminate();
  }
}
