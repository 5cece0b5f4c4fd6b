export {
  decodeImage,
  fitImage,
  fitMask,
  cropRgba,
  cropGray,
  rgbaToRgb,
  flattenRgba,
  ImageError,
  type RgbaImage,
  type GrayImage,
  type DecodedImage,
  type ImageFit,
} from './raster.js';
export { maskFromImage, blurMask, maskBoundingBox, expandCropRegion, scaleMask, compositeWithMask, type CropRegion } from './mask.js';
export { encodePng, readPngText, type PngTextEntry } from './png.js';
export {
  formatInfotext,
  parseInfotext,
  quoteInfotextValue,
  schedulerFromA1111,
  A1111_SAMPLER_NAMES,
  type InfotextFields,
  type ParsedInfotext,
} from './infotext.js';
export { readImageMetadata, REQUEST_CHUNK_KEY, INFOTEXT_CHUNK_KEY, type ImageMetadata } from './metadata.js';
