// One generation at a time from this window: start, follow progress and previews, cancel, and hand
// results over. Events of other (stale, cancelled) jobs are ignored.
import type { GeneratePayload, ResultImage, StudioApi, StudioEvents } from '@shared/contract.js';
import { describeFailure, type Failure } from './errors.js';

export type JobPhase = 'idle' | 'starting' | 'running' | 'cancelling';
export type JobPurpose = 'generate' | 'live';

export type PreviewFrame = StudioEvents['preview'] & { receivedAt: number };

export interface FinishedJob {
  jobId: string;
  purpose: JobPurpose;
  images: ResultImage[];
  elapsedMs: number;
}

type JobEvent =
  | { event: 'progress'; payload: StudioEvents['progress'] }
  | { event: 'preview'; payload: StudioEvents['preview'] }
  | { event: 'image'; payload: StudioEvents['image'] }
  | { event: 'result'; payload: StudioEvents['result'] }
  | { event: 'jobError'; payload: StudioEvents['jobError'] }
  | { event: 'jobCancelled'; payload: StudioEvents['jobCancelled'] }
  | { event: 'jobStarted'; payload: StudioEvents['jobStarted'] };

export class GenerationController {
  phase = $state<JobPhase>('idle');
  purpose = $state<JobPurpose>('generate');
  jobId = $state<string | null>(null);
  queuePosition = $state(0);
  step = $state(0);
  totalSteps = $state(0);
  image = $state(0);
  images = $state(1);
  etaMs = $state(0);
  elapsedMs = $state(0);
  error = $state.raw<Failure | null>(null);
  /** A short non-error line ("Cancelled.", "Done in 3.2 s"). */
  notice = $state<string | null>(null);
  readonly busy = $derived(this.phase !== 'idle');
  /** 0..1 over the whole batch. */
  readonly fraction = $derived(this.totalSteps > 0 ? Math.min(1, (this.image * this.totalSteps + this.step) / (this.images * this.totalSteps)) : 0);

  private readonly previewListeners = new Set<(f: PreviewFrame) => void>();
  private readonly progressListeners = new Set<(p: StudioEvents['progress'] & { receivedAt: number }) => void>();
  private readonly resultListeners = new Set<(r: FinishedJob) => void>();
  /** The images of the running job that arrived so far (kept when it is cancelled or fails). */
  private finished: ResultImage[] = [];
  /** Events for jobs whose id we do not know yet (they may beat the generate reply). */
  private early: JobEvent[] = [];
  private startToken = 0;
  private cancelWanted = false;
  private readonly unsubscribe: Array<() => void> = [];

  constructor(private readonly api: StudioApi) {
    const route = <E extends JobEvent['event']>(event: E) =>
      api.on(event, (payload) => this.handle({ event, payload } as JobEvent));
    for (const e of ['progress', 'preview', 'image', 'result', 'jobError', 'jobCancelled', 'jobStarted'] as const) this.unsubscribe.push(route(e));
  }

  dispose(): void {
    for (const u of this.unsubscribe) u();
  }

  onPreview(cb: (f: PreviewFrame) => void): () => void {
    this.previewListeners.add(cb);
    return () => this.previewListeners.delete(cb);
  }

  onProgress(cb: (p: StudioEvents['progress'] & { receivedAt: number }) => void): () => void {
    this.progressListeners.add(cb);
    return () => this.progressListeners.delete(cb);
  }

  onResult(cb: (r: FinishedJob) => void): () => void {
    this.resultListeners.add(cb);
    return () => this.resultListeners.delete(cb);
  }

  clearError(): void {
    this.error = null;
  }

  /** The notice is read (dismissed, or the user moved on to another action). */
  dismissNotice(): void {
    this.notice = null;
  }

  /** The host went away: the job's events will never come. */
  connectionLost(reason: string): void {
    this.startToken++;
    if (this.phase !== 'idle') this.fail({ code: 'disconnected', title: 'Lost the connection to the studio', message: reason, details: [] });
  }

  /** Queue a job; a job still running from this window is cancelled first (live mode restarts). */
  async start(payload: GeneratePayload | (() => Promise<GeneratePayload>), purpose: JobPurpose = 'generate'): Promise<void> {
    if (this.jobId) void this.cancelJob(this.jobId);
    const token = ++this.startToken;
    this.reset('starting', purpose);
    let body: GeneratePayload;
    try {
      body = typeof payload === 'function' ? await payload() : payload;
    } catch (e) {
      if (token === this.startToken) this.fail(describeFailure(e));
      return;
    }
    if (token !== this.startToken) return;
    this.images = Math.max(1, body.batchCount ?? 1);
    const reply = await this.api.invoke('generate', body);
    if (token !== this.startToken) {
      if (reply.ok) void this.cancelJob(reply.value.jobId);
      return;
    }
    if (!reply.ok) {
      this.fail(describeFailure(reply.error));
      return;
    }
    this.jobId = reply.value.jobId;
    this.queuePosition = reply.value.position;
    if (this.phase === 'starting') this.phase = 'running';
    const early = this.early.filter((e) => e.payload.jobId === this.jobId);
    this.early = [];
    if (this.cancelWanted) void this.cancel();
    for (const e of early) this.handle(e);
  }

  /** Esc: stop the job (it ends at the next step and reports jobCancelled). */
  async cancel(): Promise<void> {
    if (this.phase === 'idle') return;
    if (!this.jobId) {
      this.cancelWanted = true;
      this.phase = 'cancelling';
      return;
    }
    this.phase = 'cancelling';
    const reply = await this.cancelJob(this.jobId);
    if (!reply) return;
    if (reply.ok && reply.value.cancelled.length === 0 && this.phase === 'cancelling') {
      // Already over (its result or error is on the way, or was missed): stop waiting.
      this.finish('Cancelled.');
    }
  }

  private async cancelJob(jobId: string) {
    return this.api.invoke('cancel', { jobId }).catch(() => null);
  }

  private reset(phase: JobPhase, purpose: JobPurpose): void {
    this.phase = phase;
    this.purpose = purpose;
    this.jobId = null;
    this.step = 0;
    this.totalSteps = 0;
    this.image = 0;
    this.images = 1;
    this.etaMs = 0;
    this.elapsedMs = 0;
    this.error = null;
    this.notice = null;
    this.cancelWanted = false;
    this.early = [];
    this.finished = [];
  }

  /** A job that ended early hands over the images it finished. */
  private keepFinished(jobId: string, elapsedMs: number): number {
    const images = this.finished;
    this.finished = [];
    if (images.length === 0) return 0;
    const done: FinishedJob = { jobId, purpose: this.purpose, images, elapsedMs };
    for (const cb of this.resultListeners) cb(done);
    return images.length;
  }

  private fail(f: Failure): void {
    this.error = f;
    this.phase = 'idle';
    this.jobId = null;
  }

  private finish(notice: string | null): void {
    this.phase = 'idle';
    this.jobId = null;
    this.notice = notice;
  }

  private handle(e: JobEvent): void {
    if (!this.jobId) {
      if (this.phase === 'starting') this.early.push(e);
      return;
    }
    if (e.payload.jobId !== this.jobId) return;
    const now = performance.now();
    switch (e.event) {
      case 'jobStarted':
        this.queuePosition = 0;
        break;
      case 'progress': {
        const p = e.payload;
        this.step = p.step;
        this.totalSteps = p.totalSteps;
        this.image = p.image;
        this.etaMs = p.etaMs;
        this.elapsedMs = p.elapsedMs;
        this.queuePosition = 0;
        for (const cb of this.progressListeners) cb({ ...p, receivedAt: now });
        break;
      }
      case 'preview':
        for (const cb of this.previewListeners) cb({ ...e.payload, receivedAt: now });
        break;
      case 'image':
        this.finished.push(e.payload.image);
        break;
      case 'result': {
        this.finished = [];
        const done: FinishedJob = { jobId: e.payload.jobId, purpose: this.purpose, images: e.payload.images, elapsedMs: e.payload.elapsedMs };
        const ms = e.payload.elapsedMs;
        this.finish(`Done in ${ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(1)} s`}`);
        for (const cb of this.resultListeners) cb(done);
        break;
      }
      case 'jobError': {
        const { jobId, error } = e.payload;
        this.fail(describeFailure(error));
        this.keepFinished(jobId, this.elapsedMs);
        break;
      }
      case 'jobCancelled': {
        const jobId = e.payload.jobId;
        this.finish('Cancelled.');
        const kept = this.keepFinished(jobId, this.elapsedMs);
        if (kept > 0) this.notice = `Cancelled (${kept} finished image${kept > 1 ? 's' : ''} kept).`;
        break;
      }
    }
  }
}
