// Which generation the canvas asks for: it follows from what is on it.
import type { GenerationMode } from '@shared/contract.js';

export type { GenerationMode };

export function generationModeFor(hasImage: boolean, maskEmpty: boolean): GenerationMode {
  if (!hasImage) return 'txt2img';
  return maskEmpty ? 'img2img' : 'inpaint';
}

export const MODE_LABELS: Record<GenerationMode, string> = {
  txt2img: 'Text to image',
  img2img: 'Image to image',
  inpaint: 'Inpainting',
};
