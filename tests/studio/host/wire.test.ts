// The wire protocol's encoder/decoder (pure TS, shared by the browser host and the renderer).
import { describe, expect, it } from 'vitest';
import { decodeFrame, encodeFrame, parseClientMessage, tokenFromHash, WireError, webSocketUrl } from '../../../src-main/shared/wire.js';

describe('wire frames', () => {
  it('round-trips JSON with binary blobs and bigints', () => {
    const rgba = new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8]);
    const buf = Buffer.from([9, 8, 7]);
    const msg = { t: 'event', event: 'preview', seq: 3, payload: { rgba, nested: [{ png: buf }, 'x', null, 1.5], seed: 18446744073709551615n, empty: new Uint8Array(0) } };
    const frame = encodeFrame(msg);
    expect(frame).toBeInstanceOf(Uint8Array);
    expect(String.fromCharCode(...frame.subarray(0, 4))).toBe('LSW1');
    const back = decodeFrame(frame) as typeof msg;
    expect(back.payload.rgba).toBeInstanceOf(Uint8Array);
    expect([...back.payload.rgba]).toEqual([...rgba]);
    expect(back.payload.rgba.byteOffset).toBe(0);
    expect(back.payload.rgba.buffer.byteLength).toBe(8);
    const png = (back.payload.nested[0] as { png: Uint8Array }).png;
    expect(png).toBeInstanceOf(Uint8Array);
    expect([...png]).toEqual([9, 8, 7]);
    expect(back.payload.nested.slice(1)).toEqual(['x', null, 1.5]);
    expect(back.payload.seed).toBe(18446744073709551615n);
    expect(back.payload.empty.byteLength).toBe(0);
    expect(back.seq).toBe(3);
  });

  it('keeps pixel bytes out of the JSON header (no base64)', () => {
    const big = new Uint8Array(64 * 64 * 4).fill(200);
    const frame = encodeFrame({ rgba: big });
    expect(frame.byteLength).toBeLessThan(big.byteLength + 100);
  });

  it('decodes a frame given as an ArrayBuffer or as ws fragments', () => {
    const frame = encodeFrame({ a: new Uint8Array([1, 2]) });
    const ab = frame.buffer.slice(frame.byteOffset, frame.byteOffset + frame.byteLength);
    expect([...(decodeFrame(ab as ArrayBuffer) as { a: Uint8Array }).a]).toEqual([1, 2]);
    const parts = [Buffer.from(frame.subarray(0, 5)), Buffer.from(frame.subarray(5))];
    expect([...(decodeFrame(parts) as { a: Uint8Array }).a]).toEqual([1, 2]);
    // A Buffer that is a slice of a bigger pool.
    const pooled = Buffer.concat([Buffer.alloc(7), Buffer.from(frame)]).subarray(7);
    expect([...(decodeFrame(pooled) as { a: Uint8Array }).a]).toEqual([1, 2]);
  });

  it('rejects malformed frames', () => {
    const good = encodeFrame({ a: new Uint8Array([1, 2, 3]) });
    expect(() => decodeFrame(new Uint8Array([1, 2, 3]))).toThrow(WireError);
    expect(() => decodeFrame(new TextEncoder().encode('{"t":"call"}'))).toThrow(/bad magic/);
    expect(() => decodeFrame(good.subarray(0, good.byteLength - 1))).toThrow(/blob table/);
    const lying = good.slice();
    new DataView(lying.buffer).setUint32(4, 1_000_000, true);
    expect(() => decodeFrame(lying)).toThrow(/truncated/);
    expect(() => encodeFrame({ '\u0000b': 1 })).toThrow(/reserved/);
    expect(() => encodeFrame({ f: new Float32Array(2) })).toThrow(/only Uint8Array/);
  });

  it('validates client messages', () => {
    expect(parseClientMessage({ t: 'call', id: 1, channel: 'listModels' })).toEqual({ t: 'call', id: 1, channel: 'listModels', payload: undefined });
    expect(parseClientMessage({ t: 'ack', seq: 4 })).toEqual({ t: 'ack', seq: 4 });
    expect(() => parseClientMessage({ t: 'call', id: '1', channel: 'x' })).toThrow(WireError);
    expect(() => parseClientMessage({ t: 'eval' })).toThrow(/unknown message type/);
    expect(() => parseClientMessage(null)).toThrow(WireError);
  });

  it('finds the token and builds the socket URL', () => {
    expect(tokenFromHash('#token=abc_DEF-1')).toBe('abc_DEF-1');
    expect(tokenFromHash('#x=1&token=t')).toBe('t');
    expect(tokenFromHash('')).toBeUndefined();
    expect(webSocketUrl('http://127.0.0.1:5000/index.html#token=t', 'a b')).toBe('ws://127.0.0.1:5000/ws?token=a%20b');
  });
});
