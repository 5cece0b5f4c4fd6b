import { describe, expect, it } from 'vitest';
import { describeFailure } from '../../../src-renderer/src/lib/state/errors.js';
import { Results } from '../../../src-renderer/src/lib/state/results.svelte.js';
import { createRaster } from '../../../src-renderer/src/lib/raster/rgba-raster.js';

const item = (seed: string) => ({ raster: createRaster(8, 8), seed, infotext: '', png: new Uint8Array() });

describe('Results', () => {
  it('shows a batch one at a time and takes the shown one', () => {
    const r = new Results();
    expect(r.current).toBeNull();
    r.show([item('1'), item('2'), item('3')], 'generate');
    expect(r.current!.seed).toBe('1');
    r.next();
    r.next();
    expect(r.current!.seed).toBe('3');
    r.next();
    expect(r.current!.seed).toBe('1');
    r.previous();
    expect(r.current!.seed).toBe('3');
    expect(r.take()!.seed).toBe('3');
    expect(r.count).toBe(0);
    expect(r.take()).toBeNull();
  });
});

describe('describeFailure', () => {
  it('gives engine and host errors a title and lists details once', () => {
    const f = describeFailure({
      code: 'bad-model',
      message: 'Model /m cannot be used: unet/model.onnx is missing; vae_decoder/model.onnx is missing',
      details: ['unet/model.onnx is missing', 'vae_decoder/model.onnx is missing'],
      file: '/m/unet',
    });
    expect(f.title).toBe('The model could not be loaded');
    expect(f.message).toBe('Model /m cannot be used:');
    expect(f.details).toEqual(['unet/model.onnx is missing', 'vae_decoder/model.onnx is missing', 'File: /m/unet']);
  });

  it('recognises out-of-memory and plain exceptions', () => {
    expect(describeFailure({ code: 'internal', message: 'std::bad_alloc while running UNet' }).title).toBe('Out of memory');
    expect(describeFailure(new Error('boom'))).toEqual({ code: 'internal', title: 'Something went wrong', message: 'boom', details: [] });
  });
});
