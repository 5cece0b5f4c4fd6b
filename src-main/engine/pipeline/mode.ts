// Kept free of imports: the studio contract re-exports this type to the renderer.

/** Which generation runs: from noise, from an init image, or from an init image and a mask. */
export type GenerationMode = 'txt2img' | 'img2img' | 'inpaint';
