// Helpers for the studio host tests: a service over the real engine worker (tiny models) and an event recorder.
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ChannelEngineClient, StudioService, threadWorkerChannel, type StudioConnection, type StudioEngine, type StudioServiceOptions } from '../../../src-main/host/index.js';
import type { EventName, StudioEvents } from '../../../src-main/shared/contract.js';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
export const modelsDir = path.join(repoRoot, 'tests', 'models');
export const TINY = 'bundled:tiny-sd15';

export interface Recorded {
  event: EventName;
  payload: any;
  seq?: number;
}

export class Recorder {
  readonly events: Recorded[] = [];
  connection!: StudioConnection;
  private waiters: Array<{ pred: (e: Recorded) => boolean; resolve: (e: Recorded) => void }> = [];

  constructor(readonly autoAck = true) {}

  send<E extends EventName>(event: E, payload: StudioEvents[E], seq?: number): void {
    const rec: Recorded = { event, payload, ...(seq !== undefined ? { seq } : {}) };
    this.events.push(rec);
    for (const w of [...this.waiters]) {
      if (w.pred(rec)) {
        this.waiters.splice(this.waiters.indexOf(w), 1);
        w.resolve(rec);
      }
    }
    if (this.autoAck && seq !== undefined) queueMicrotask(() => this.connection.ack(seq));
  }

  /** The first recorded event matching pred, waiting for it if needed. */
  waitFor(pred: (e: Recorded) => boolean, timeoutMs = 30_000): Promise<Recorded> {
    const hit = this.events.find(pred);
    if (hit) return Promise.resolve(hit);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`timed out waiting for an event; got: ${this.events.map((e) => e.event).join(', ')}`)), timeoutMs);
      this.waiters.push({
        pred,
        resolve: (e) => {
          clearTimeout(timer);
          resolve(e);
        },
      });
    });
  }

  /** Resolves with the job's final event (result, jobError or jobCancelled). */
  end(jobId: string): Promise<Recorded> {
    return this.waitFor((e) => (e.event === 'result' || e.event === 'jobError' || e.event === 'jobCancelled') && e.payload.jobId === jobId);
  }

  of(jobId: string, event?: EventName): Recorded[] {
    return this.events.filter((e) => e.payload?.jobId === jobId && (event === undefined || e.event === event));
  }
}

export interface Harness {
  service: StudioService;
  recorder: Recorder;
  tmp: string;
  close(): Promise<void>;
}

export async function makeService(opts: { engine?: StudioEngine; autoAck?: boolean; settingsFile?: string; tmp?: string } & Partial<StudioServiceOptions> = {}): Promise<Harness> {
  const tmp = opts.tmp ?? (await mkdtemp(path.join(os.tmpdir(), 'ls-host-')));
  const engine = opts.engine ?? new ChannelEngineClient(() => threadWorkerChannel());
  const service = await StudioService.create({
    engine,
    bundledModelsDir: modelsDir,
    settingsFile: opts.settingsFile ?? path.join(tmp, 'settings.json'),
    host: 'web',
    version: '0.1.0-test',
    ...(opts.previewAckTimeoutMs !== undefined ? { previewAckTimeoutMs: opts.previewAckTimeoutMs } : {}),
  });
  const recorder = new Recorder(opts.autoAck ?? true);
  recorder.connection = service.connect(recorder);
  return {
    service,
    recorder,
    tmp,
    async close() {
      await service.close();
      await rm(tmp, { recursive: true, force: true });
    },
  };
}

export const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
