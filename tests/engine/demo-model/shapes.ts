// The demo model's world (tools/demo-model/shapes.py), in TypeScript: palette, shape rendering, and the
// simple measures that say what a generated image shows.
import sharp from 'sharp';

export const SIZE = 64;
export const COLORS = {
  red: [220, 30, 30],
  green: [30, 160, 50],
  blue: [30, 70, 220],
  yellow: [240, 220, 30],
  purple: [140, 50, 180],
  orange: [245, 135, 20],
  white: [245, 245, 245],
  black: [20, 20, 20],
} as const satisfies Record<string, readonly [number, number, number]>;
export type Color = keyof typeof COLORS;
export const COLOR_NAMES = Object.keys(COLORS) as Color[];
export const SHAPES = ['circle', 'square', 'triangle'] as const;
export type Shape = (typeof SHAPES)[number];
export const SIZES = ['small', 'large'] as const;
export type Size = (typeof SIZES)[number];
export const POSITIONS = ['left', 'right', 'top', 'bottom', 'center'] as const;
export type Position = (typeof POSITIONS)[number];
const HALF: Record<Size, number> = { small: 8, large: 14 };
const OFFSET = 16;
const POS_XY: Record<Position, [number, number]> = { center: [0, 0], left: [-OFFSET, 0], right: [OFFSET, 0], top: [0, -OFFSET], bottom: [0, OFFSET] };
const POS_PHRASE: Record<Position, string> = { left: 'on the left', right: 'on the right', top: 'at the top', bottom: 'at the bottom', center: 'in the center' };

export interface Scene {
  shape: Shape;
  color: Color;
  size: Size;
  pos: Position;
  bg: Color;
}

/** The training captions' main phrasing: "a large red circle on the left on a white background". */
export function promptOf(s: Scene): string {
  return `a ${s.size} ${s.color} ${s.shape} ${POS_PHRASE[s.pos]} on a ${s.bg} background`.replace(/\ba orange\b/g, 'an orange');
}

/** Anti-aliased coverage in [0,1] (row-major SIZE×SIZE), from a signed distance in pixels. */
export function coverage(shape: Shape, cx: number, cy: number, half: number): Float32Array {
  const out = new Float32Array(SIZE * SIZE);
  const k = 1 / Math.sqrt(5);
  for (let y = 0; y < SIZE; y++) {
    for (let x = 0; x < SIZE; x++) {
      const dx = x + 0.5 - cx;
      const dy = y + 0.5 - cy;
      let d: number;
      if (shape === 'circle') d = Math.hypot(dx, dy) - half;
      else if (shape === 'square') d = Math.max(Math.abs(dx), Math.abs(dy)) - half;
      else d = Math.max(dy - half, (2 * dx - dy - half) * k, (-2 * dx - dy - half) * k);
      out[y * SIZE + x] = Math.min(1, Math.max(0, 0.5 - d));
    }
  }
  return out;
}

/** RGB (SIZE×SIZE×3) of a scene, without jitter: exactly the training images' centre case. */
export function renderScene(s: Scene): Uint8Array {
  const [ox, oy] = POS_XY[s.pos];
  const a = coverage(s.shape, SIZE / 2 + ox, SIZE / 2 + oy, HALF[s.size]);
  const fg = COLORS[s.color];
  const bg = COLORS[s.bg];
  const out = new Uint8Array(SIZE * SIZE * 3);
  for (let i = 0; i < SIZE * SIZE; i++) {
    for (let c = 0; c < 3; c++) out[i * 3 + c] = Math.round(a[i]! * fg[c]! + (1 - a[i]!) * bg[c]!);
  }
  return out;
}

export async function scenePng(s: Scene): Promise<Uint8Array> {
  return new Uint8Array(await sharp(renderScene(s), { raw: { width: SIZE, height: SIZE, channels: 3 } }).png().toBuffer());
}

/** A SIZE×SIZE black mask PNG with a white (repaint) rectangle [x1,x2)×[y1,y2). */
export async function rectMaskPng(x1: number, y1: number, x2: number, y2: number): Promise<Uint8Array> {
  const data = new Uint8Array(SIZE * SIZE);
  for (let y = y1; y < y2; y++) for (let x = x1; x < x2; x++) data[y * SIZE + x] = 255;
  return new Uint8Array(await sharp(data, { raw: { width: SIZE, height: SIZE, channels: 1 } }).png().toBuffer());
}

/** PNG → RGB bytes (SIZE×SIZE×3). */
export async function decodeRgb(png: Uint8Array): Promise<Uint8Array> {
  const { data, info } = await sharp(png).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  if (info.width !== SIZE || info.height !== SIZE) throw new Error(`expected ${SIZE}x${SIZE}, got ${info.width}x${info.height}`);
  return new Uint8Array(data);
}

/** Nearest palette colour index per pixel. */
export function classifyPixels(rgb: Uint8Array): Uint8Array {
  const n = rgb.length / 3;
  const out = new Uint8Array(n);
  const pal = COLOR_NAMES.map((c) => COLORS[c]);
  for (let i = 0; i < n; i++) {
    let best = 0;
    let bestD = Infinity;
    for (let p = 0; p < pal.length; p++) {
      const dr = rgb[i * 3]! - pal[p]![0];
      const dg = rgb[i * 3 + 1]! - pal[p]![1];
      const db = rgb[i * 3 + 2]! - pal[p]![2];
      const d = dr * dr + dg * dg + db * db;
      if (d < bestD) {
        bestD = d;
        best = p;
      }
    }
    out[i] = best;
  }
  return out;
}

export interface Measured {
  /** Mode of the nearest palette colour over the 2-px border. */
  bg: Color;
  /** Pixels nearest to the asked colour. */
  area: number;
  shape: Shape | null;
  size: Size | null;
  pos: Position | null;
  cx: number;
  cy: number;
  iou: Partial<Record<Shape, number>>;
}

/**
 * What an image shows, for the pixels nearest to `color` (null: all pixels not of the background colour)
 * — the same measure as shapes.measure in Python:
 * area; centroid → position (centre if within 8 px, else the dominant axis); bounding box side → size
 * (> 22 px: large); shape = the ideal circle / square / upright triangle of the same area and centroid
 * with the best intersection-over-union. Optionally only pixels with x in [xMin, xMax) count.
 */
export function measure(rgb: Uint8Array, color: Color | null, region: { xMin?: number; xMax?: number } = {}): Measured {
  const cls = classifyPixels(rgb);
  const xMin = region.xMin ?? 0;
  const xMax = region.xMax ?? SIZE;
  const counts = new Array<number>(COLOR_NAMES.length).fill(0);
  for (let y = 0; y < SIZE; y++) {
    for (let x = xMin; x < xMax; x++) {
      if (y < 2 || y >= SIZE - 2 || x < xMin + 2 || x >= xMax - 2) counts[cls[y * SIZE + x]!]!++;
    }
  }
  const bg = COLOR_NAMES[counts.indexOf(Math.max(...counts))]!;
  // null: every pixel not of the background colour (the layout, whatever its colours).
  const target = color === null ? -1 : COLOR_NAMES.indexOf(color);
  const bgIndex = COLOR_NAMES.indexOf(bg);
  const mask = new Uint8Array(SIZE * SIZE);
  let area = 0;
  let sx = 0;
  let sy = 0;
  let x0 = SIZE;
  let x1 = -1;
  let y0 = SIZE;
  let y1 = -1;
  for (let y = 0; y < SIZE; y++) {
    for (let x = xMin; x < xMax; x++) {
      const k = cls[y * SIZE + x]!;
      if (target >= 0 ? k !== target : k === bgIndex) continue;
      mask[y * SIZE + x] = 1;
      area++;
      sx += x + 0.5;
      sy += y + 0.5;
      x0 = Math.min(x0, x);
      x1 = Math.max(x1, x);
      y0 = Math.min(y0, y);
      y1 = Math.max(y1, y);
    }
  }
  const out: Measured = { bg, area, shape: null, size: null, pos: null, cx: NaN, cy: NaN, iou: {} };
  if (area < 40) return out;
  const mx = sx / area;
  const my = sy / area;
  out.cx = mx - SIZE / 2;
  out.cy = my - SIZE / 2;
  const th = Math.sqrt(area / 2);
  const templates: Record<Shape, [number, number, number]> = {
    circle: [mx, my, Math.sqrt(area / Math.PI)],
    square: [mx, my, Math.sqrt(area) / 2],
    triangle: [mx, my - th / 3, th],
  };
  let best: Shape = 'circle';
  for (const s of SHAPES) {
    const t = coverage(s, ...templates[s]);
    let inter = 0;
    let union = 0;
    for (let i = 0; i < t.length; i++) {
      const a = t[i]! >= 0.5;
      const b = mask[i] === 1;
      if (a && b) inter++;
      if (a || b) union++;
    }
    out.iou[s] = inter / Math.max(1, union);
    if (out.iou[s]! > out.iou[best]!) best = s;
  }
  out.shape = best;
  out.size = Math.max(x1 - x0 + 1, y1 - y0 + 1) > 22 ? 'large' : 'small';
  if (Math.max(Math.abs(out.cx), Math.abs(out.cy)) < 8) out.pos = 'center';
  else if (Math.abs(out.cx) >= Math.abs(out.cy)) out.pos = out.cx < 0 ? 'left' : 'right';
  else out.pos = out.cy < 0 ? 'top' : 'bottom';
  return out;
}

/** Deterministic scenes (mulberry32), background never the shape's colour. */
export function scenes(n: number, seed: number): Scene[] {
  let a = seed >>> 0;
  const rnd = (k: number): number => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return Math.floor((((t ^ (t >>> 14)) >>> 0) / 4294967296) * k);
  };
  const out: Scene[] = [];
  for (let i = 0; i < n; i++) {
    // Cover every shape / size / position evenly, colours at random.
    const shape = SHAPES[i % 3]!;
    const size = SIZES[Math.floor(i / 3) % 2]!;
    const pos = POSITIONS[Math.floor(i / 6) % 5]!;
    const color = COLOR_NAMES[rnd(8)]!;
    let bg = color;
    while (bg === color) bg = COLOR_NAMES[rnd(8)]!;
    out.push({ shape, color, size, pos, bg });
  }
  return out;
}

/**
 * The layout of an image whatever its colours: two-means clustering of the pixels (seeded with the
 * border's mean colour and the pixel farthest from it); the cluster the border does not belong to is the
 * foreground. Returns a 0/1 mask (SIZE×SIZE).
 */
export function foregroundMask(rgb: Uint8Array): Uint8Array {
  const n = SIZE * SIZE;
  const bgc = [0, 0, 0];
  let nb = 0;
  for (let y = 0; y < SIZE; y++) {
    for (let x = 0; x < SIZE; x++) {
      if (y >= 2 && y < SIZE - 2 && x >= 2 && x < SIZE - 2) continue;
      for (let c = 0; c < 3; c++) bgc[c]! += rgb[(y * SIZE + x) * 3 + c]!;
      nb++;
    }
  }
  let cb = bgc.map((v) => v / nb);
  const dist = (i: number, m: number[]): number => {
    const dr = rgb[i * 3]! - m[0]!;
    const dg = rgb[i * 3 + 1]! - m[1]!;
    const db = rgb[i * 3 + 2]! - m[2]!;
    return dr * dr + dg * dg + db * db;
  };
  let far = 0;
  for (let i = 1; i < n; i++) if (dist(i, cb) > dist(far, cb)) far = i;
  let cf = [rgb[far * 3]!, rgb[far * 3 + 1]!, rgb[far * 3 + 2]!];
  const mask = new Uint8Array(n);
  for (let it = 0; it < 8; it++) {
    const sb = [0, 0, 0];
    const sf = [0, 0, 0];
    let kb = 0;
    let kf = 0;
    for (let i = 0; i < n; i++) {
      const isF = dist(i, cf) < dist(i, cb);
      mask[i] = isF ? 1 : 0;
      for (let c = 0; c < 3; c++) (isF ? sf : sb)[c]! += rgb[i * 3 + c]!;
      if (isF) kf++;
      else kb++;
    }
    if (kb) cb = sb.map((v) => v / kb);
    if (kf) cf = sf.map((v) => v / kf);
  }
  return mask;
}

export function iou(a: Uint8Array, b: Uint8Array): number {
  let inter = 0;
  let union = 0;
  for (let i = 0; i < a.length; i++) {
    if (a[i] && b[i]) inter++;
    if (a[i] || b[i]) union++;
  }
  return inter / Math.max(1, union);
}
