// OpenRaster (.ora): the open layered format Krita, GIMP and MyPaint read and write.
// A zip holding `mimetype` (first, stored, no extra field), `stack.xml`, one PNG per layer,
// `mergedimage.png` and `Thumbnails/thumbnail.png`. Pure functions over RGBA rasters; the PNG
// codec is passed in (the browser's canvas in the app, pngjs in Node).
import { strFromU8, strToU8, unzipSync, zipSync, type Zippable } from 'fflate';
import type { RgbaRaster } from '../raster/rgba-raster.js';
import { flatten, thumbnail } from './composite.js';

export const ORA_MIMETYPE = 'image/openraster';
/** Our namespace in stack.xml: marks the inpainting mask layer and keeps a layer's generation parameters. */
export const STUDIO_NS = 'https://github.com/latent-studio/ora';

export interface PngCodec {
  encode(raster: RgbaRaster): Promise<Uint8Array>;
  decode(png: Uint8Array): Promise<RgbaRaster>;
}

export interface OraLayer {
  name: string;
  raster: RgbaRaster;
  x: number;
  y: number;
  /** 0…1 */
  opacity: number;
  visible: boolean;
  /** 'mask': the studio's inpainting mask (coverage in the alpha channel). */
  role?: 'mask';
  /** The A1111 infotext of the generation that made this layer. */
  parameters?: string;
}

export interface OraDocument {
  width: number;
  height: number;
  /** Top first, as stack.xml lists them. */
  layers: OraLayer[];
}

export async function encodeOra(doc: OraDocument, codec: PngCodec): Promise<Uint8Array> {
  const data: Zippable = {};
  const entries: string[] = [];
  for (const [i, layer] of doc.layers.entries()) {
    const src = `data/layer${doc.layers.length - 1 - i}.png`;
    data[src.slice(5)] = [await codec.encode(layer.raster), { level: 0 }];
    entries.push(layerElement(layer, src));
  }
  const merged = flatten(doc.width, doc.height, doc.layers.filter((l) => l.visible && l.role !== 'mask'));
  const stack = [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<image version="0.0.3" w="${doc.width}" h="${doc.height}" xmlns:latent-studio="${STUDIO_NS}">`,
    ' <stack>',
    ...entries.map((e) => `  ${e}`),
    ' </stack>',
    '</image>',
    '',
  ].join('\n');
  // Insertion order is zip order: the mimetype must come first. PNGs are already deflated: stored.
  return zipSync({
    mimetype: [strToU8(ORA_MIMETYPE), { level: 0 }],
    'stack.xml': [strToU8(stack), { level: 6 }],
    data,
    'mergedimage.png': [await codec.encode(merged), { level: 0 }],
    Thumbnails: { 'thumbnail.png': [await codec.encode(thumbnail(merged, 256)), { level: 0 }] },
  });
}

export async function decodeOra(bytes: Uint8Array, codec: PngCodec): Promise<OraDocument> {
  const files = unzipSync(bytes);
  const mimetype = files['mimetype'];
  if (!mimetype || strFromU8(mimetype).trim() !== ORA_MIMETYPE) throw new Error('Not an OpenRaster file (no image/openraster mimetype).');
  const stackXml = files['stack.xml'];
  if (!stackXml) throw new Error('The OpenRaster file has no stack.xml.');
  const xml = strFromU8(stackXml);
  const image = /<image\b([^>]*)>/.exec(xml);
  if (!image) throw new Error('stack.xml has no <image> element.');
  const imageAttrs = parseAttributes(image[1]!);
  const width = Number(imageAttrs['w']);
  const height = Number(imageAttrs['h']);
  if (!(width > 0 && height > 0)) throw new Error('stack.xml gives no image size.');
  const prefix = studioPrefix(imageAttrs);
  const layers: OraLayer[] = [];
  // Groups (nested <stack>) are read as their layers in order; their own offsets and visibility are not applied.
  for (const m of xml.matchAll(/<layer\b([^>]*?)\/?>/g)) {
    const a = parseAttributes(m[1]!);
    const src = a['src'];
    if (!src) continue;
    const png = files[src];
    if (!png) throw new Error(`stack.xml names ${src}, which the file does not hold.`);
    const layer: OraLayer = {
      name: a['name'] ?? src,
      raster: await codec.decode(png),
      x: Math.round(Number(a['x'] ?? 0)) || 0,
      y: Math.round(Number(a['y'] ?? 0)) || 0,
      opacity: clamp01(Number(a['opacity'] ?? 1)),
      visible: a['visibility'] !== 'hidden',
    };
    if (prefix && a[`${prefix}:role`] === 'mask') layer.role = 'mask';
    const parameters = prefix ? a[`${prefix}:parameters`] : undefined;
    if (parameters !== undefined) layer.parameters = parameters;
    layers.push(layer);
  }
  return { width, height, layers };
}

function layerElement(l: OraLayer, src: string): string {
  const attrs: [string, string][] = [
    ['name', l.name],
    ['src', src],
    ['x', String(l.x)],
    ['y', String(l.y)],
    ['opacity', clamp01(l.opacity).toFixed(3)],
    ['visibility', l.visible ? 'visible' : 'hidden'],
    ['composite-op', 'svg:src-over'],
  ];
  if (l.role) attrs.push(['latent-studio:role', l.role]);
  if (l.parameters !== undefined) attrs.push(['latent-studio:parameters', l.parameters]);
  return `<layer ${attrs.map(([k, v]) => `${k}="${escapeXml(v)}"`).join(' ')}/>`;
}

/** The prefix another writer may have bound to our namespace (we write `latent-studio`). */
function studioPrefix(imageAttrs: Record<string, string>): string | null {
  for (const [k, v] of Object.entries(imageAttrs)) if (k.startsWith('xmlns:') && v === STUDIO_NS) return k.slice(6);
  return null;
}

function parseAttributes(s: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of s.matchAll(/([\w:.-]+)\s*=\s*(?:"([^"]*)"|'([^']*)')/g)) out[m[1]!] = unescapeXml(m[2] ?? m[3] ?? '');
  return out;
}

function escapeXml(s: string): string {
  // Newlines are escaped too: attribute normalisation would turn them into spaces (infotext has them).
  return s.replace(/[&<>"'\n\r\t]/g, (c) => `&#${c.charCodeAt(0)};`);
}

function unescapeXml(s: string): string {
  return s.replace(/&(#x[0-9a-f]+|#\d+|amp|lt|gt|quot|apos);/gi, (_, e: string) => {
    if (e[0] === '#') return String.fromCodePoint(e[1] === 'x' || e[1] === 'X' ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10));
    return { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" }[e.toLowerCase()]!;
  });
}

const clamp01 = (v: number): number => (Number.isFinite(v) ? Math.min(1, Math.max(0, v)) : 1);
