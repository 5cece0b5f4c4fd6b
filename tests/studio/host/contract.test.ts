// The contract's runtime tables agree with its types, and the validators say what is wrong.
import { describe, expect, expectTypeOf, it } from 'vitest';
import {
  CHANNELS,
  DEFAULT_SETTINGS,
  EVENTS,
  isChannel,
  isEventName,
  requestSchemas,
  settingsSchema,
  type Channel,
  type EventName,
  type PayloadOf,
  type StudioApi,
} from '../../../src-main/shared/contract.js';

describe('contract', () => {
  it('has a validator for every channel and nothing else', () => {
    expect(Object.keys(requestSchemas).sort()).toEqual([...CHANNELS].sort());
    expectTypeOf<(typeof CHANNELS)[number]>().toEqualTypeOf<Channel>();
    expectTypeOf<(typeof EVENTS)[number]>().toEqualTypeOf<EventName>();
  });

  it('recognises channel and event names only', () => {
    expect(isChannel('generate')).toBe(true);
    expect(isChannel('toString')).toBe(false);
    expect(isChannel('__proto__')).toBe(false);
    expect(isEventName('preview')).toBe(true);
    expect(isEventName('constructor')).toBe(false);
  });

  it('defaults are valid settings', () => {
    expect(settingsSchema.safeParse({ ...DEFAULT_SETTINGS }).success).toBe(true);
    expect(Object.isFrozen(DEFAULT_SETTINGS)).toBe(true);
  });

  it('no-payload channels accept undefined, null or {}', () => {
    for (const c of ['getQueue', 'listModels', 'getSettings', 'listBackends', 'getAppInfo'] as const) {
      for (const p of [undefined, null, {}]) expect(requestSchemas[c].safeParse(p).success, `${c} ${JSON.stringify(p)}`).toBe(true);
      expect(requestSchemas[c].safeParse({ x: 1 }).success).toBe(false);
    }
  });

  it('types invoke payloads per channel', () => {
    expectTypeOf<PayloadOf<'cancel'>>().toEqualTypeOf<{ jobId: string } | { scope: 'queued' | 'all' }>();
    const api = {} as StudioApi;
    // Payload optional exactly where the channel takes none.
    expectTypeOf(api.invoke<'listModels'>).parameters.toEqualTypeOf<['listModels', (undefined | undefined)?]>();
    expectTypeOf(api.invoke<'inspectModel'>).parameters.toEqualTypeOf<['inspectModel', { model: string }]>();
  });
});
