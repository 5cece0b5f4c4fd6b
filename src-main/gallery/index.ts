// The gallery (output folder, index, thumbnails, search) and PNG parameter readers. Plain Node.
export { Gallery, GalleryError, type GalleryOptions, type OpenReport, type AddOptions, type GalleryChange, type JournalRecord, type StoredEntry } from './gallery.js';
export { Journal, parseJournal, encodeRecord, type JournalLoad } from './journal.js';
export { pngThumbnailer, decodePngRgb, encodePngRgb, downscaleRgb, pngTextChunks, pngChunks, PngError, type Thumbnailer, type RgbImage } from './png-lite.js';
export {
  readImageParameters,
  parametersFromText,
  fromInfotext,
  fromLatentStudio,
  fromComfyPrompt,
  fromComfyWorkflow,
  fromInvokeAi,
  fromInvokeAiLegacy,
  samplerFromTool,
  pngSize,
  isCompletePng,
} from './parameters.js';
