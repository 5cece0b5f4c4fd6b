// The engine worker: runs generations (onnxruntime's run() blocks its thread) and answers the
// protocol of ./protocol.ts. Works under node worker_threads and Electron's utilityProcess.
import path from 'node:path';
import { inspectModel, openModel } from '../model/index.js';
import { chooseAutoBackend, listSupportedBackends } from '../onnx/index.js';
import { runGeneration } from '../pipeline/index.js';
import { countTokens, tokenizePrompt } from '../prompt/index.js';
import { getEnginePort } from './port.js';
import { serializeError, type EngineEvent, type EngineRequest, type ModelRef, type PromptTokenIds } from './protocol.js';

type OpenedModel = Awaited<ReturnType<typeof openModel>>;

const port = getEnginePort();
const models = new Map<string, { dir: string; model: Promise<OpenedModel> }>();
const running = new Map<number, AbortController>();
let queue: Promise<unknown> = Promise.resolve();

function send(event: EngineEvent, transfer?: ArrayBuffer[]): void {
  port.post(event, transfer);
}

function modelKey(ref: ModelRef): string {
  return JSON.stringify([path.resolve(ref.dir), ref.backend ?? 'cpu', ref.threads ?? 0]);
}

function getModel(ref: ModelRef): Promise<OpenedModel> {
  const key = modelKey(ref);
  const hit = models.get(key);
  if (hit) return hit.model;
  const opts: Parameters<typeof openModel>[1] = {};
  if (ref.backend !== undefined) (opts as { backend?: string }).backend = ref.backend;
  if (ref.threads) (opts as { threads?: number }).threads = ref.threads;
  const model = openModel(path.resolve(ref.dir), opts);
  models.set(key, { dir: path.resolve(ref.dir), model });
  model.catch(() => models.delete(key));
  return model;
}

async function disposeModels(dir?: string): Promise<void> {
  const target = dir !== undefined ? path.resolve(dir) : undefined;
  for (const [key, entry] of [...models]) {
    if (target !== undefined && entry.dir !== target) continue;
    models.delete(key);
    try {
      await (await entry.model).dispose();
    } catch {
      // a model that failed to open has nothing to dispose
    }
  }
}

/** A Uint8Array that owns its whole ArrayBuffer (safe to transfer). */
function ownBuffer(a: Uint8Array): Uint8Array {
  return a.byteOffset === 0 && a.byteLength === a.buffer.byteLength && a.buffer instanceof ArrayBuffer ? a : new Uint8Array(a);
}

async function runGenerate(msg: Extract<EngineRequest, { type: 'generate' }>, controller: AbortController): Promise<void> {
  const req = msg.request;
  const ref: ModelRef | undefined =
    msg.model ??
    (req.model !== undefined
      ? { dir: req.model, ...(req.backend !== undefined ? { backend: req.backend } : {}), ...(req.threads !== undefined ? { threads: req.threads } : {}) }
      : undefined);
  if (!ref) throw Object.assign(new Error('No model given: set request.model (a model folder).'), { name: 'EngineError', code: 'no-model' });
  if (controller.signal.aborted) throw Object.assign(new Error('Generation cancelled.'), { name: 'AbortError', code: 'cancelled' });
  const model = await getModel(ref);
  await runGeneration(model, req, {
    signal: controller.signal,
    onProgress: (event) => send({ id: msg.id, type: 'progress', event }),
    onPreview: (event) => {
      const rgba = ownBuffer(event.rgba);
      send({ id: msg.id, type: 'preview', event: { ...event, rgba } }, [rgba.buffer as ArrayBuffer]);
    },
    // Each image leaves as soon as it is done: a cancel (or a crash) later keeps it.
    onImage: (result, index) => {
      const png = ownBuffer(result.png);
      send({ id: msg.id, type: 'result', index, result: { ...result, png } }, [png.buffer as ArrayBuffer]);
    },
  });
}

async function answer(msg: EngineRequest): Promise<unknown> {
  switch (msg.type) {
    case 'inspectModel':
      return inspectModel(path.resolve(msg.dir));
    case 'listBackends':
      return listSupportedBackends();
    case 'chooseBackend':
      return chooseAutoBackend();
    case 'tokenize': {
      const model = await getModel(msg.model);
      const info = countTokens(model.tokenizer, msg.text);
      const ids = tokenizePrompt(model.tokenizer, msg.text).chunks.map((c) => c.ids);
      const out: PromptTokenIds = { tokens: info.tokens, chunks: info.chunks, limit: info.limit, ids };
      return out;
    }
    case 'dispose':
      await disposeModels(msg.dir);
      return undefined;
    default:
      throw Object.assign(new Error(`Unknown request type ${JSON.stringify((msg as { type?: unknown }).type)}`), { code: 'bad-request' });
  }
}

port.onMessage((raw) => {
  const msg = raw as EngineRequest;
  if (!msg || typeof msg !== 'object' || typeof msg.id !== 'number') return;
  if (msg.type === 'cancel') {
    running.get(msg.target)?.abort();
    send({ id: msg.id, type: 'done' });
    return;
  }
  if (msg.type === 'generate') {
    const controller = new AbortController();
    running.set(msg.id, controller);
    // One generation at a time: they would only contend for the same cores.
    const job = queue.then(() => runGenerate(msg, controller));
    queue = job.catch(() => undefined);
    job.then(
      () => send({ id: msg.id, type: 'done' }),
      (err: unknown) => send({ id: msg.id, type: 'error', error: serializeError(err) }),
    ).finally(() => running.delete(msg.id));
    return;
  }
  answer(msg).then(
    (value) => send({ id: msg.id, type: 'done', value }),
    (err: unknown) => send({ id: msg.id, type: 'error', error: serializeError(err) }),
  );
});

send({ id: 0, type: 'ready', pid: process.pid });
