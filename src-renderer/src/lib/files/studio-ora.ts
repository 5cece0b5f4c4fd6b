// The studio's document ⇄ OpenRaster layers. Today's document is an init image (accepted results are
// flattened into it) and an inpainting mask; the mask travels as a hidden layer whose alpha is its
// coverage, marked so that reopening restores it as the mask. Files from other painters come in as
// their visible layers flattened into the init image.
import type { MaskRaster } from '../raster/mask-raster.js';
import { cropCentered, floorTo8, type RgbaRaster } from '../raster/rgba-raster.js';
import { flatten } from './composite.js';
import type { OraDocument, OraLayer } from './ora.js';

export const MASK_LAYER_NAME = 'Inpaint mask';
export const IMAGE_LAYER_NAME = 'Image';
/** The mask layer's colour (its alpha is the coverage): the red a painter expects of a mask overlay. */
const MASK_RGB = [255, 48, 48] as const;

export interface DocumentContent {
  width: number;
  height: number;
  image: RgbaRaster | null;
  /** width·height bytes, 255 = repaint. */
  mask: Uint8Array;
  /** The A1111 infotext of the generation that made the image, when known. */
  parameters?: string;
}

export function documentToOra(doc: { width: number; height: number; image: RgbaRaster | null; mask: MaskRaster }, parameters?: string): OraDocument {
  const layers: OraLayer[] = [];
  if (!doc.mask.isEmpty()) {
    layers.push({ name: MASK_LAYER_NAME, raster: maskToRaster(doc.mask), x: 0, y: 0, opacity: 1, visible: false, role: 'mask' });
  }
  if (doc.image) {
    const image: OraLayer = { name: IMAGE_LAYER_NAME, raster: doc.image, x: 0, y: 0, opacity: 1, visible: true };
    if (parameters !== undefined) image.parameters = parameters;
    layers.push(image);
  }
  return { width: doc.width, height: doc.height, layers };
}

/** What a document opened from `ora` holds; the size is cropped (centred) to multiples of 8 as opened images are. */
export function oraToDocument(ora: OraDocument): DocumentContent {
  const maskLayer = ora.layers.find((l) => l.role === 'mask');
  const pictures = ora.layers.filter((l) => l.role !== 'mask');
  const visible = pictures.filter((l) => l.visible);
  const width = floorTo8(ora.width);
  const height = floorTo8(ora.height);
  const fit = (r: RgbaRaster) => cropCentered(r, width, height);
  const image = pictures.length ? fit(flatten(ora.width, ora.height, visible)) : null;
  const mask = new Uint8Array(width * height);
  if (maskLayer) {
    const coverage = fit(flatten(ora.width, ora.height, [{ ...maskLayer, opacity: 1 }])).data;
    for (let i = 0; i < mask.length; i++) mask[i] = coverage[i * 4 + 3]!;
  }
  const out: DocumentContent = { width, height, image, mask };
  const parameters = visible.length === 1 ? visible[0]!.parameters : undefined;
  if (parameters !== undefined) out.parameters = parameters;
  return out;
}

function maskToRaster(mask: MaskRaster): RgbaRaster {
  const data = new Uint8ClampedArray(mask.width * mask.height * 4);
  const m = mask.data;
  for (let i = 0, j = 0; i < m.length; i++, j += 4) {
    data[j] = MASK_RGB[0];
    data[j + 1] = MASK_RGB[1];
    data[j + 2] = MASK_RGB[2];
    data[j + 3] = m[i]!;
  }
  return { width: mask.width, height: mask.height, data };
}
