// Reading generation parameters from PNGs made by Latent Studio, AUTOMATIC1111, ComfyUI and InvokeAI. Each PNG
// is hand-made here: pixels from the engine's PNG writer, text chunks written the way each tool writes them.
import { describe, expect, it } from 'vitest';
import { fromComfyPrompt, isCompletePng, pngSize, readImageParameters, samplerFromTool } from '../../src-main/gallery/index.js';
import { a1111Text, ourPng, tinyPng } from './helpers.js';

describe('PNG parameter readers', () => {
  it('AUTOMATIC1111: tEXt "parameters" infotext', async () => {
    const png = await tinyPng([{ keyword: 'parameters', text: a1111Text('a castle on a hill, (masterpiece:1.2)', 1234567890, ', Denoising strength: 0.55') }]);
    const p = readImageParameters(png);
    expect(p).toMatchObject({
      source: 'a1111',
      prompt: 'a castle on a hill, (masterpiece:1.2)',
      negativePrompt: 'blurry, lowres',
      steps: 20,
      sampler: 'euler-ancestral',
      samplerName: 'Euler a',
      cfgScale: 7,
      seed: '1234567890',
      width: 8,
      height: 8,
      model: 'sd15',
      strength: 0.55,
    });
  });

  it('AUTOMATIC1111: UTF-8 prompt in an iTXt chunk, multi-line prompt', async () => {
    const png = await tinyPng([{ keyword: 'parameters', text: 'ein Schloß im Nebel, 城\nzweite Zeile\nSteps: 30, Sampler: DPM++ 2M Karras, CFG scale: 5.5, Seed: 7, Size: 8x8', international: true }]);
    const p = readImageParameters(png);
    expect(p.prompt).toBe('ein Schloß im Nebel, 城\nzweite Zeile');
    expect(p.negativePrompt).toBe('');
    expect(p).toMatchObject({ steps: 30, cfgScale: 5.5, seed: '7', sampler: 'dpmpp-2m' });
  });

  it('Latent Studio: the JSON request chunk wins, infotext fills the rest', async () => {
    const p = readImageParameters(await ourPng('a red fox', 42));
    expect(p).toMatchObject({ source: 'latent-studio', prompt: 'a red fox', negativePrompt: 'ugly', seed: '42', steps: 3, cfgScale: 7.5, sampler: 'euler', width: 8, height: 8, model: 'tiny-sd15' });
  });

  it('ComfyUI: "prompt" API graph — KSampler → CLIPTextEncode, checkpoint through a LoRA, latent size', async () => {
    const graph = {
      '3': {
        class_type: 'KSampler',
        inputs: { seed: 156680208700286, steps: 25, cfg: 6.5, sampler_name: 'dpmpp_2m', scheduler: 'karras', denoise: 1, model: ['10', 0], positive: ['6', 0], negative: ['7', 0], latent_image: ['5', 0] },
      },
      '4': { class_type: 'CheckpointLoaderSimple', inputs: { ckpt_name: 'dreamshaper_8.safetensors' } },
      '10': { class_type: 'LoraLoader', inputs: { model: ['4', 0], clip: ['4', 1], lora_name: 'x.safetensors' } },
      '5': { class_type: 'EmptyLatentImage', inputs: { width: 768, height: 512, batch_size: 1 } },
      '6': { class_type: 'CLIPTextEncode', inputs: { text: 'beautiful scenery nature glass bottle landscape, purple galaxy bottle', clip: ['10', 1] } },
      '7': { class_type: 'CLIPTextEncode', inputs: { text: 'text, watermark', clip: ['10', 1] } },
      '8': { class_type: 'VAEDecode', inputs: { samples: ['3', 0], vae: ['4', 2] } },
      '9': { class_type: 'SaveImage', inputs: { filename_prefix: 'ComfyUI', images: ['8', 0] } },
    };
    const workflow = { nodes: [], links: [] };
    const png = await tinyPng([
      { keyword: 'prompt', text: JSON.stringify(graph) },
      { keyword: 'workflow', text: JSON.stringify(workflow) },
    ]);
    const p = readImageParameters(png);
    expect(p).toMatchObject({
      source: 'comfyui',
      prompt: 'beautiful scenery nature glass bottle landscape, purple galaxy bottle',
      negativePrompt: 'text, watermark',
      seed: '156680208700286',
      steps: 25,
      cfgScale: 6.5,
      sampler: 'dpmpp-2m',
      samplerName: 'dpmpp_2m',
      width: 768,
      height: 512,
      model: 'dreamshaper_8',
    });
    expect(p.strength).toBeUndefined();
  });

  it('ComfyUI: text from a primitive node, conditioning through a combine, img2img denoise', () => {
    const p = fromComfyPrompt({
      '1': { class_type: 'KSampler', inputs: { seed: ['9', 0], steps: 12, cfg: 4, sampler_name: 'euler_ancestral', denoise: 0.6, positive: ['2', 0], negative: ['3', 0], latent_image: ['4', 0], model: ['5', 0] } },
      '2': { class_type: 'ConditioningCombine', inputs: { conditioning_1: ['6', 0], conditioning_2: ['7', 0] } },
      '6': { class_type: 'CLIPTextEncode', inputs: { text: ['8', 0], clip: ['5', 1] } },
      '7': { class_type: 'CLIPTextEncode', inputs: { text: 'second', clip: ['5', 1] } },
      '8': { class_type: 'PrimitiveString', inputs: { value: 'a lighthouse at dusk' } },
      '9': { class_type: 'PrimitiveInt', inputs: { value: 99 } },
      '3': { class_type: 'CLIPTextEncode', inputs: { text: 'fog', clip: ['5', 1] } },
      '4': { class_type: 'VAEEncode', inputs: { pixels: ['10', 0], vae: ['5', 2] } },
      '5': { class_type: 'CheckpointLoaderSimple', inputs: { ckpt_name: 'v1-5-pruned-emaonly.ckpt' } },
    });
    expect(p).toMatchObject({ prompt: 'a lighthouse at dusk', negativePrompt: 'fog', seed: '99', steps: 12, cfgScale: 4, sampler: 'euler-ancestral', strength: 0.6, model: 'v1-5-pruned-emaonly' });
  });

  it('ComfyUI: only a "workflow" UI graph (widgets_values + links)', async () => {
    const workflow = {
      nodes: [
        { id: 3, type: 'KSampler', widgets_values: [8566257, 'randomize', 20, 8, 'euler', 'normal', 1], inputs: [{ name: 'model', link: 1 }, { name: 'positive', link: 4 }, { name: 'negative', link: 6 }, { name: 'latent_image', link: 2 }] },
        { id: 4, type: 'CheckpointLoaderSimple', widgets_values: ['sd_xl_base_1.0.safetensors'], inputs: [] },
        { id: 5, type: 'EmptyLatentImage', widgets_values: [1024, 1024, 1] },
        { id: 6, type: 'CLIPTextEncode', widgets_values: ['an astronaut riding a horse'], inputs: [{ name: 'clip', link: 3 }] },
        { id: 7, type: 'CLIPTextEncode', widgets_values: ['low quality'], inputs: [{ name: 'clip', link: 5 }] },
      ],
      links: [
        [1, 4, 0, 3, 0, 'MODEL'],
        [2, 5, 0, 3, 3, 'LATENT'],
        [3, 4, 1, 6, 0, 'CLIP'],
        [4, 6, 0, 3, 1, 'CONDITIONING'],
        [5, 4, 1, 7, 0, 'CLIP'],
        [6, 7, 0, 3, 2, 'CONDITIONING'],
      ],
    };
    const p = readImageParameters(await tinyPng([{ keyword: 'workflow', text: JSON.stringify(workflow) }]));
    expect(p).toMatchObject({ source: 'comfyui', prompt: 'an astronaut riding a horse', negativePrompt: 'low quality', seed: '8566257', steps: 20, cfgScale: 8, sampler: 'euler', width: 1024, height: 1024, model: 'sd_xl_base_1.0' });
  });

  it('InvokeAI: "invokeai_metadata" JSON', async () => {
    const meta = {
      generation_mode: 'txt2img',
      positive_prompt: 'a cozy cabin in the woods, winter',
      negative_prompt: 'people',
      width: 512,
      height: 768,
      seed: 3141592653,
      cfg_scale: 7.5,
      steps: 30,
      scheduler: 'euler_a',
      model: { key: 'abc', hash: 'blake3:…', name: 'Juggernaut XL', base: 'sdxl', type: 'main' },
    };
    const p = readImageParameters(await tinyPng([{ keyword: 'invokeai_metadata', text: JSON.stringify(meta) }, { keyword: 'invokeai_graph', text: '{}' }]));
    expect(p).toMatchObject({ source: 'invokeai', prompt: 'a cozy cabin in the woods, winter', negativePrompt: 'people', seed: '3141592653', steps: 30, cfgScale: 7.5, sampler: 'euler-ancestral', samplerName: 'euler_a', width: 512, height: 768, model: 'Juggernaut XL' });
  });

  it('InvokeAI 2: "sd-metadata" with the [negative] syntax', async () => {
    const meta = { model_weights: 'stable-diffusion-1.5', image: { prompt: [{ prompt: 'a fox in the snow [blurry, cropped]', weight: 1 }], seed: 5, steps: 50, cfg_scale: 7, sampler: 'k_lms', width: 512, height: 512 } };
    const p = readImageParameters(await tinyPng([{ keyword: 'sd-metadata', text: JSON.stringify(meta) }]));
    expect(p).toMatchObject({ source: 'invokeai', prompt: 'a fox in the snow', negativePrompt: 'blurry, cropped', seed: '5', steps: 50, sampler: 'lms', model: 'stable-diffusion-1.5' });
  });

  it('a PNG without metadata: unknown source, size from IHDR; bad JSON does not throw', async () => {
    expect(readImageParameters(await tinyPng([], 16, 8))).toEqual({ source: 'unknown', prompt: '', negativePrompt: '', width: 16, height: 8 });
    const broken = readImageParameters(await tinyPng([{ keyword: 'prompt', text: '{"3": {not json' }, { keyword: 'parameters', text: a1111Text('fallback', 1) }]));
    expect(broken).toMatchObject({ source: 'a1111', prompt: 'fallback' });
    expect(() => readImageParameters(new Uint8Array([1, 2, 3]))).toThrow();
  });

  it('sampler names and PNG structure checks', async () => {
    expect(samplerFromTool('uni_pc')).toBe('unipc');
    expect(samplerFromTool('DPM++ 2M')).toBe('dpmpp-2m');
    expect(samplerFromTool('nope')).toBeUndefined();
    const png = await tinyPng([], 12, 10);
    expect(pngSize(png)).toEqual({ width: 12, height: 10 });
    expect(isCompletePng(png)).toBe(true);
    expect(isCompletePng(png.subarray(0, png.length - 1))).toBe(false);
    expect(isCompletePng(png.subarray(0, 40))).toBe(false);
  });
});
