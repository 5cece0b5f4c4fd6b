import { describe, expect, it } from 'vitest';
import { inspectModel, readOnnxGraph } from '../../../src-main/engine/model/index.js';
import { modelPath, VARIANTS } from './fixtures.js';

const TABLE: Record<(typeof VARIANTS)[number], { variant: string; ids: string; timestep: string; vae: string; dtype: string; pipeline: string }> = {
  'tiny-sd15': { variant: 'sd1', ids: 'int32', timestep: 'int64[batch]', vae: 'latent_sample', dtype: 'float32', pipeline: 'StableDiffusionPipeline' },
  'tiny-sd15-fp16': { variant: 'sd1-fp16', ids: 'int32', timestep: 'int64[batch]', vae: 'latent_sample', dtype: 'float16', pipeline: 'StableDiffusionPipeline' },
  'tiny-sd2-v': { variant: 'sd2-v', ids: 'int64', timestep: 'float32[batch]', vae: 'latent_parameters', dtype: 'float32', pipeline: 'StableDiffusionPipeline' },
  'tiny-inpaint': { variant: 'sd1-inpainting', ids: 'int32', timestep: 'float32[batch]', vae: 'latent_sample', dtype: 'float32', pipeline: 'StableDiffusionInpaintPipeline' },
  'tiny-lcm': { variant: 'sd1-lcm', ids: 'int32', timestep: 'int64[batch]', vae: 'latent_parameters', dtype: 'float32', pipeline: 'LatentConsistencyModelPipeline' },
  'tiny-turbo': { variant: 'sd2-unet-batch-1', ids: 'int64', timestep: 'float32[]', vae: 'latent_parameters', dtype: 'float32', pipeline: 'StableDiffusionPipeline' },
};

describe.each(VARIANTS)('inspectModel(%s)', (name) => {
  it('reports the variant, dtypes, I/O and sizes', async () => {
    const r = await inspectModel(modelPath(name));
    const t = TABLE[name];
    expect(r.supported).toBe(true);
    expect(r.problems).toEqual([]);
    expect(r.issues).toEqual([]);
    expect(r.warnings).toEqual([]);
    expect(r.name).toBe(name);
    expect(r.variant).toBe(t.variant);
    expect(r.pipelineClassName).toBe(t.pipeline);
    expect(r.info).not.toBeNull();
    expect(r.info!.inputIdsType).toBe(t.ids);
    expect(r.info!.timestepInput).toBe(t.timestep);
    expect(r.info!.vaeEncoder).toBe(t.vae);
    expect(r.dtypes).toEqual({ text_encoder: t.dtype, unet: t.dtype, vae_encoder: t.dtype, vae_decoder: t.dtype });
    for (const c of ['text_encoder', 'unet', 'vae_encoder', 'vae_decoder'] as const) {
      const ci = r.components[c];
      expect(ci.present).toBe(true);
      expect(ci.file).toBe(`${c}/model.onnx`);
      expect(ci.bytes).toBeGreaterThan(1000);
      expect(ci.opset).toBe(17);
      expect(ci.externalDataFiles).toEqual([]);
      expect(ci.config).not.toBeNull();
    }
    const unet = r.components.unet;
    expect(unet.inputs.map((i) => i.name)).toEqual(
      name === 'tiny-lcm' ? ['sample', 'timestep', 'encoder_hidden_states', 'timestep_cond'] : ['sample', 'timestep', 'encoder_hidden_states'],
    );
    expect(unet.outputs.map((o) => o.name)).toEqual(['out_sample']);
    expect(unet.inputs[0]!.shape).toEqual([name === 'tiny-turbo' ? 1 : 'batch_size', name === 'tiny-inpaint' ? 9 : 4, 'height', 'width']);
    expect(r.components.text_encoder.inputs).toEqual([{ name: 'input_ids', type: t.ids, shape: ['batch_size', 'sequence_length'] }]);
    expect(r.components.text_encoder.outputs.map((o) => o.name)).toEqual(['last_hidden_state', 'pooler_output']);
    expect(r.components.vae_encoder.outputs[0]!.name).toBe(t.vae);
    expect(r.totalBytes).toBeGreaterThan(100_000);
    expect(r.totalBytes).toBeLessThan(3_000_000);
  });
});

describe('readOnnxGraph', () => {
  it('reads inputs/outputs like onnxruntime reports them', async () => {
    const g = await readOnnxGraph(modelPath('tiny-turbo/unet/model.onnx'));
    expect(g.inputs).toEqual([
      { name: 'sample', type: 'float32', shape: [1, 4, 'height', 'width'] },
      { name: 'timestep', type: 'float32', shape: [] },
      { name: 'encoder_hidden_states', type: 'float32', shape: [1, 'sequence_length', 48] },
    ]);
    expect(g.outputs).toEqual([{ name: 'out_sample', type: 'float32', shape: [1, 4, 'height', 'width'] }]);
    expect(g.initializerCount).toBeGreaterThan(10);
    expect(g.irVersion).toBeGreaterThan(3);
  });

  it('lists external data files', async () => {
    const g = await readOnnxGraph(modelPath('overlay-external-data/unet/model.onnx'));
    expect(g.externalData).toHaveLength(1);
    expect(g.externalData[0]!.location).toBe('model.onnx_data');
    expect(g.externalData[0]!.bytesNeeded).toBeGreaterThan(100_000);
  });
});
