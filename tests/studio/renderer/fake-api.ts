// A StudioApi double: records calls, answers from handlers, emits events on demand.
import type { Channel, EventName, Result, StudioApi, StudioEvents } from '../../../src-main/shared/contract.js';

type Handler = (payload: unknown) => Result<unknown> | Promise<Result<unknown>>;

export class FakeApi {
  readonly host = 'web' as const;
  readonly calls: Array<{ channel: Channel; payload: unknown }> = [];
  private readonly listeners = new Map<string, Set<(p: unknown) => void>>();
  private nextJob = 1;
  handlers: Partial<Record<Channel, Handler>> = {
    generate: () => ({ ok: true, value: { jobId: `job${this.nextJob++}`, position: 0 } }),
    cancel: (p) => ({ ok: true, value: { cancelled: [(p as { jobId: string }).jobId] } }),
  };

  invoke(channel: Channel, payload?: unknown): Promise<Result<any>> {
    this.calls.push({ channel, payload });
    const h = this.handlers[channel];
    return Promise.resolve(h ? h(payload) : { ok: false, error: { code: 'unknown-channel', message: channel } });
  }

  on<E extends EventName>(event: E, cb: (p: StudioEvents[E]) => void): () => void {
    let set = this.listeners.get(event);
    if (!set) this.listeners.set(event, (set = new Set()));
    set.add(cb as (p: unknown) => void);
    return () => set.delete(cb as (p: unknown) => void);
  }

  emit<E extends EventName>(event: E, payload: StudioEvents[E]): void {
    for (const cb of this.listeners.get(event) ?? []) cb(payload);
  }

  asApi(): StudioApi {
    return this as unknown as StudioApi;
  }
}
