// Kept free of imports: the studio contract, the renderer and the engine all use this type.

/** Which generation runs: from noise, from an init image, or from an init image and a mask. */
export type GenerationMode = 'txt2img' | 'img2img' | 'inpaint';
