// The studio's view of the engine worker, over an abstract channel: a node worker thread (tests,
// `latent-studio serve`) or an Electron utilityProcess (the desktop app; see src-main/main/engine-process.main.ts).
// The protocol (requests, events, cancel, worker death, closing safely) is the engine's EngineClient; this file
// only makes the channels and keeps the studio's wording of the errors.
import type { ParsedRequest } from '../shared/generate-request.js';
import type { GenerateResult, PreviewEvent, ProgressEvent } from '../engine/pipeline/types.js';
import { EngineClient, engineWorkerLocation, processChannel, threadChannel, type EngineChannel } from '../engine/worker/client.js';
import { EngineError, type AutoChoice, type BackendInfo, type ModelRef, type PromptTokenIds } from '../engine/worker/protocol.js';

export interface EngineGenerateOptions {
  signal?: AbortSignal;
  onProgress?(e: ProgressEvent): void;
  onPreview?(e: PreviewEvent): void;
  /** Each finished image, as soon as it is done. */
  onImage?(result: GenerateResult, index: number): void;
}

/** What the studio service needs from an engine. EngineClient (engine/worker) fits too. */
export interface StudioEngine {
  /** `request` was checked where it entered (the host's one parse of the payload). */
  generate(request: ParsedRequest, options?: EngineGenerateOptions): Promise<GenerateResult[]>;
  listBackends(): Promise<Array<{ name: string; bundled: boolean }>>;
  /** What backend 'auto' runs on, and the warning when that is the CPU. */
  chooseBackend?(): Promise<{ backend: string; warning?: string }>;
  dispose?(dir?: string): Promise<void>;
  close(): Promise<void>;
}

/**
 * One running worker: a worker thread, an Electron utilityProcess (isolation: 'process'), or a fake in tests.
 * The engine's EngineChannel; onExit is called once when the worker is gone (crash, exit, or terminate()).
 */
export type WorkerChannel = EngineChannel;

export type WorkerChannelFactory = () => WorkerChannel;

/** The engine worker (engine.worker.js, or .ts through tsx from source) in a node worker thread. */
export function threadWorkerChannel(options: { workerUrl?: URL; execArgv?: string[] } = {}): WorkerChannel {
  return threadChannel(options.workerUrl ? { url: options.workerUrl } : engineWorkerLocation(), { execArgv: options.execArgv ?? [] });
}

/**
 * The engine worker in a child process (the browser host's default): the multi-GB allocations of a real model
 * then never stall the host's event loop (measured on the SD 1.5-sized model: max event-loop delay 15 ms in a
 * process against 33 ms in a thread), and a crash of the engine cannot take the host down.
 */
export function processWorkerChannel(options: { execArgv?: string[] } = {}): WorkerChannel {
  return processChannel(engineWorkerLocation(), { execArgv: options.execArgv ?? [] });
}

/**
 * An engine client over any WorkerChannel. Starts the worker on first use, restarts it on the next call after
 * a crash (the calls in flight reject with code 'worker-exited').
 */
export class ChannelEngineClient implements StudioEngine {
  private readonly client: EngineClient;

  constructor(factory: WorkerChannelFactory, options: { readyTimeoutMs?: number } = {}) {
    this.client = EngineClient.create({
      channel: () => {
        try {
          return factory();
        } catch (error) {
          throw new EngineError({ name: 'EngineError', code: 'worker-start', message: `The engine worker could not start: ${error instanceof Error ? error.message : String(error)}` });
        }
      },
      messages: { closed: 'The engine is closed.', workerExited: 'it restarts with the next job.' },
      ...(options.readyTimeoutMs !== undefined ? { readyTimeoutMs: options.readyTimeoutMs } : {}),
    });
  }

  get alive(): boolean {
    return this.client.alive;
  }

  start(): Promise<void> {
    return this.client.startWorker();
  }

  generate(request: ParsedRequest, options: EngineGenerateOptions = {}): Promise<GenerateResult[]> {
    return this.client.generate(request, options);
  }

  listBackends(): Promise<BackendInfo[]> {
    return this.client.listBackends();
  }

  chooseBackend(): Promise<AutoChoice> {
    return this.client.chooseBackend();
  }

  tokenize(text: string, model: ModelRef): Promise<PromptTokenIds> {
    return this.client.tokenize(text, model);
  }

  dispose(dir?: string): Promise<void> {
    return this.client.dispose(dir);
  }

  /** Cancels what runs (a worker thread is stopped only once idle), disposes the models (2 s at most) and stops the worker. */
  close(): Promise<void> {
    return this.client.close();
  }
}
