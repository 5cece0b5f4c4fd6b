// Models the engine cannot run give a ModelError naming the file and what is wrong; inspectModel reports
// the same without throwing. Never a crash.
import { readFile, rm, truncate, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { inspectModel, ModelError, openModel } from '../../../src-main/engine/model/index.js';
import { cleanupCopies, copyModel, modelPath, pattern } from './fixtures.js';

afterAll(cleanupCopies);

async function expectModelError(dir: string, code: string | string[], file: string | undefined, ...fragments: string[]): Promise<ModelError> {
  let caught: unknown;
  try {
    const m = await openModel(dir, { threads: 1 });
    await m.dispose();
  } catch (err) {
    caught = err;
  }
  expect(caught).toBeInstanceOf(ModelError);
  const e = caught as ModelError;
  expect(e).toBeInstanceOf(Error);
  if (Array.isArray(code)) expect(code).toContain(e.code);
  else expect(e.code).toBe(code);
  expect(e.file).toBe(file);
  if (file) expect(e.message).toContain(file);
  for (const f of fragments) expect(e.message).toContain(f);
  // inspectModel does not throw and reports the same problem.
  const r = await inspectModel(dir);
  expect(r.supported).toBe(false);
  expect(r.info).toBeNull();
  expect(r.problems.length).toBeGreaterThan(0);
  expect(r.issues.some((i) => i.code === e.code && i.file === file)).toBe(true);
  return e;
}

async function editJson(file: string, edit: (j: Record<string, unknown>) => void): Promise<void> {
  const j = JSON.parse(await readFile(file, 'utf8')) as Record<string, unknown>;
  edit(j);
  await writeFile(file, JSON.stringify(j));
}

describe('missing things', () => {
  it('a missing folder throws from both inspectModel and openModel', async () => {
    const dir = modelPath('no-such-model');
    await expect(inspectModel(dir)).rejects.toMatchObject({ name: 'ModelError', code: 'missing-dir' });
    await expect(openModel(dir)).rejects.toBeInstanceOf(ModelError);
    await expect(openModel(dir)).rejects.toThrow(/no-such-model/);
  });

  it('a file instead of a folder', async () => {
    await expect(inspectModel(modelPath('tiny-sd15/model_index.json'))).rejects.toMatchObject({ code: 'missing-dir' });
  });

  it('missing unet/model.onnx', async () => {
    const dir = await copyModel('tiny-sd15');
    await rm(path.join(dir, 'unet/model.onnx'));
    await expectModelError(dir, 'missing-file', 'unet/model.onnx', 'missing');
  });

  it('missing text_encoder/model.onnx and tokenizer files are all listed', async () => {
    const dir = await copyModel('tiny-sd15');
    await rm(path.join(dir, 'text_encoder/model.onnx'));
    await rm(path.join(dir, 'tokenizer/merges.txt'));
    const r = await inspectModel(dir);
    expect(r.supported).toBe(false);
    expect(r.issues.map((i) => i.file).sort()).toEqual(['text_encoder/model.onnx', 'tokenizer/merges.txt']);
  });

  it('missing scheduler config', async () => {
    const dir = await copyModel('tiny-sd15');
    await rm(path.join(dir, 'scheduler'), { recursive: true });
    await expectModelError(dir, 'missing-file', 'scheduler/scheduler_config.json');
  });

  it('a missing vae_encoder only disables image input', async () => {
    const dir = await copyModel('tiny-sd15');
    await rm(path.join(dir, 'vae_encoder'), { recursive: true });
    const r = await inspectModel(dir);
    expect(r.supported).toBe(true);
    expect(r.info!.vaeEncoder).toBeNull();
    expect(r.warnings.join('\n')).toContain('vae_encoder/model.onnx');
    const warnings: string[] = [];
    const m = await openModel(dir, { threads: 1, onWarning: (w) => warnings.push(w) });
    try {
      expect(m.info.vaeEncoder).toBeNull();
      expect(warnings.join('\n')).toContain('vae_encoder');
      await expect(m.encodeImage(pattern(3 * 64), 8, 8)).rejects.toMatchObject({ code: 'missing-component', file: 'vae_encoder/model.onnx' });
      expect(await m.decodeLatents(pattern(4), 1, 1, 1)).toHaveLength(3 * 64);
    } finally {
      await m.dispose();
    }
  });

  it('missing configs: defaults (scaling factor 0.18215) and a warning', async () => {
    const dir = await copyModel('tiny-sd15');
    await rm(path.join(dir, 'vae_decoder/config.json'));
    await rm(path.join(dir, 'vae_encoder/config.json'));
    const r = await inspectModel(dir);
    expect(r.supported).toBe(true);
    expect(r.info!.vaeScalingFactor).toBe(0.18215);
    expect(r.warnings.join('\n')).toContain('vae_decoder/config.json');
  });

  it('reads scaling_factor from vae_decoder/config.json', async () => {
    const dir = await copyModel('tiny-sd15');
    await editJson(path.join(dir, 'vae_decoder/config.json'), (j) => (j['scaling_factor'] = 0.13025));
    expect((await inspectModel(dir)).info!.vaeScalingFactor).toBe(0.13025);
    expect((await inspectModel(modelPath('tiny-inpaint'))).info!.vaeScalingFactor).toBe(0.18215); // its configs have none
  });
});

describe('broken files', () => {
  it('a truncated unet/model.onnx', async () => {
    const dir = await copyModel('tiny-sd15');
    const f = path.join(dir, 'unet/model.onnx');
    const size = (await readFile(f)).length;
    await truncate(f, Math.floor(size * 0.6));
    await expectModelError(dir, 'truncated-file', 'unet/model.onnx', 'truncated');
  });

  it('an empty vae_decoder/model.onnx', async () => {
    const dir = await copyModel('tiny-sd2-v');
    await truncate(path.join(dir, 'vae_decoder/model.onnx'), 0);
    await expectModelError(dir, 'truncated-file', 'vae_decoder/model.onnx');
  });

  it('a text_encoder/model.onnx cut a few bytes short', async () => {
    const dir = await copyModel('tiny-sd15-fp16');
    const f = path.join(dir, 'text_encoder/model.onnx');
    const size = (await readFile(f)).length;
    await truncate(f, size - 3);
    await expectModelError(dir, 'truncated-file', 'text_encoder/model.onnx');
  });

  it('a file that is not ONNX (an HTML error page saved as model.onnx)', async () => {
    const dir = await copyModel('tiny-sd15');
    await writeFile(path.join(dir, 'unet/model.onnx'), '<!DOCTYPE html><html><body>Access denied</body></html>\n');
    await expectModelError(dir, ['invalid-onnx', 'truncated-file'], 'unet/model.onnx');
  });

  it('missing or short external data', async () => {
    const dir = await copyModel('tiny-sd15', 'overlay-external-data');
    const data = path.join(dir, 'unet/model.onnx_data');
    const r = await inspectModel(dir);
    expect(r.supported).toBe(true);
    expect(r.components.unet.externalDataFiles).toEqual(['unet/model.onnx_data']);
    expect(r.components.unet.externalDataBytes).toBeGreaterThan(100_000);
    await truncate(data, 1000);
    await expectModelError(dir, 'missing-external-data', 'unet/model.onnx', 'model.onnx_data', 'truncated');
    await rm(data);
    await expectModelError(dir, 'missing-external-data', 'unet/model.onnx', 'model.onnx_data', 'missing');
  });
});

describe('models the engine cannot run', () => {
  it('an SDXL folder whose encoders give no hidden states is recognised as SDXL and refused', async () => {
    // bad-sdxl-like: model_index StableDiffusionXLPipeline, a text_encoder_2 with only last_hidden_state/text_embeds.
    const dir = await copyModel('tiny-sd15', 'bad-sdxl-like');
    const e = await expectModelError(dir, 'unsupported-architecture', 'text_encoder/model.onnx', 'SDXL', 'hidden_states', 'output_hidden_states');
    expect(e.message).toContain('text_encoder_2/model.onnx');
    const r = await inspectModel(dir);
    expect(r.pipelineClassName).toBe('StableDiffusionXLPipeline');
    expect(r.components.text_encoder_2?.present).toBe(true);
  });

  it('an SDXL-like UNet alone is recognised by its inputs: the second text encoder is then missing', async () => {
    const dir = await copyModel('tiny-sd15');
    const { cp } = await import('node:fs/promises');
    await cp(modelPath('bad-sdxl-like/unet'), path.join(dir, 'unet'), { recursive: true, force: true });
    await expectModelError(dir, 'unsupported-architecture', 'text_encoder/model.onnx', 'SDXL');
    const r = await inspectModel(dir);
    expect(r.issues.some((i) => i.code === 'missing-file' && i.file === 'text_encoder_2/model.onnx')).toBe(true);
    expect(r.issues.some((i) => i.code === 'missing-file' && i.file === 'tokenizer_2/vocab.json')).toBe(true);
  });

  it('SDXL without text_encoder_2/ or tokenizer_2/', async () => {
    const noTe2 = await copyModel('tiny-sdxl');
    await rm(path.join(noTe2, 'text_encoder_2'), { recursive: true });
    await expectModelError(noTe2, 'missing-file', 'text_encoder_2/model.onnx', 'second text encoder');
    const noTok2 = await copyModel('tiny-sdxl');
    await rm(path.join(noTok2, 'tokenizer_2'), { recursive: true });
    await expectModelError(noTok2, 'missing-file', 'tokenizer_2/vocab.json', 'second tokenizer');
  });

  it('the SDXL refiner (requires_aesthetics_score) is refused', async () => {
    const dir = await copyModel('tiny-sdxl');
    await editJson(path.join(dir, 'unet/config.json'), (j) => (j['requires_aesthetics_score'] = true));
    await expectModelError(dir, 'unsupported-architecture', 'unet/config.json', 'refiner');
  });

  it('SD3-style pipelines stay refused', async () => {
    const dir = await copyModel('tiny-sd15');
    await editJson(path.join(dir, 'model_index.json'), (j) => (j['_class_name'] = 'StableDiffusion3Pipeline'));
    await expectModelError(dir, 'unsupported-architecture', 'model_index.json', 'StableDiffusion3Pipeline');
  });

  it('a UNet with an unexpected input', async () => {
    const dir = await copyModel('tiny-sd15', 'bad-extra-input');
    await expectModelError(dir, 'unexpected-input', 'unet/model.onnx', 'down_block_additional_residual');
  });
});

describe('wrong configs', () => {
  it('scaling_factor that is not a number', async () => {
    const dir = await copyModel('tiny-sd15');
    await editJson(path.join(dir, 'vae_decoder/config.json'), (j) => (j['scaling_factor'] = 'big'));
    await expectModelError(dir, 'invalid-config', 'vae_decoder/config.json', 'scaling_factor');
  });

  it('unet in_channels that disagree with the graph', async () => {
    const dir = await copyModel('tiny-sd15');
    await editJson(path.join(dir, 'unet/config.json'), (j) => (j['in_channels'] = 9));
    await expectModelError(dir, 'config-mismatch', 'unet/config.json', 'in_channels 9', '4');
  });

  it('time_cond_proj_dim on a UNet without timestep_cond', async () => {
    const dir = await copyModel('tiny-sd15');
    await editJson(path.join(dir, 'unet/config.json'), (j) => (j['time_cond_proj_dim'] = 256));
    await expectModelError(dir, 'config-mismatch', 'unet/config.json', 'timestep_cond');
  });

  it('time_cond_proj_dim that disagrees with the LCM graph', async () => {
    const dir = await copyModel('tiny-lcm');
    await editJson(path.join(dir, 'unet/config.json'), (j) => (j['time_cond_proj_dim'] = 256));
    await expectModelError(dir, 'config-mismatch', 'unet/config.json', '256', '32');
  });

  it('text hidden size that disagrees with the graph', async () => {
    const dir = await copyModel('tiny-sd15');
    await editJson(path.join(dir, 'text_encoder/config.json'), (j) => (j['hidden_size'] = 768));
    await expectModelError(dir, 'config-mismatch', 'text_encoder/config.json', '768');
  });

  it('a scheduler config that is not JSON', async () => {
    const dir = await copyModel('tiny-sd15');
    await writeFile(path.join(dir, 'scheduler/scheduler_config.json'), '{"_class_name": "PNDMScheduler",');
    await expectModelError(dir, 'invalid-config', 'scheduler/scheduler_config.json', 'not valid JSON');
  });

  it('a scheduler config that is an array / has no class name', async () => {
    const dir = await copyModel('tiny-sd15');
    await writeFile(path.join(dir, 'scheduler/scheduler_config.json'), '[1, 2]');
    await expectModelError(dir, 'invalid-config', 'scheduler/scheduler_config.json', 'not a JSON object');
    await writeFile(path.join(dir, 'scheduler/scheduler_config.json'), '{"beta_start": 0.00085}');
    await expectModelError(dir, 'invalid-config', 'scheduler/scheduler_config.json', '_class_name');
  });

  it('an unknown prediction_type', async () => {
    const dir = await copyModel('tiny-sd15');
    await editJson(path.join(dir, 'scheduler/scheduler_config.json'), (j) => (j['prediction_type'] = 'flow'));
    await expectModelError(dir, 'invalid-config', 'scheduler/scheduler_config.json', 'flow');
  });
});

describe('backend fallback and bad arguments', () => {
  it('an unavailable backend falls back to the CPU with one warning', async () => {
    const warnings: string[] = [];
    const m = await openModel(modelPath('tiny-sd15'), { backend: 'dml', threads: 1, onWarning: (w) => warnings.push(w) });
    try {
      expect(m.info.backend).toBe('cpu');
      expect(warnings).toHaveLength(1);
      expect(warnings[0]).toMatch(/'dml'.*CPU/);
      expect(m.info.warnings).toEqual(warnings);
    } finally {
      await m.dispose();
    }
  });

  it('cuda without its provider libraries falls back to the CPU', async () => {
    if (process.env['LATENT_STUDIO_HAS_CUDA'] === '1') return;
    const warnings: string[] = [];
    const m = await openModel(modelPath('tiny-sd15'), { backend: 'cuda', threads: 1, onWarning: (w) => warnings.push(w) });
    try {
      expect(m.info.backend).toBe('cpu');
      expect(warnings).toHaveLength(1);
      expect(warnings[0]).toContain("'cuda'");
    } finally {
      await m.dispose();
    }
  });

  it('wrong sizes are ModelErrors with code bad-argument', async () => {
    const m = await openModel(modelPath('tiny-lcm'), { threads: 1 });
    try {
      const base = {
        sample: pattern(4 * 16),
        batch: 1,
        latentHeight: 4,
        latentWidth: 4,
        timestep: 999,
        encoderHiddenStates: pattern(77 * 32),
        sequenceLength: 77,
        timestepCond: pattern(32),
      };
      await expect(m.predictNoise({ ...base, sample: pattern(10) })).rejects.toMatchObject({ code: 'bad-argument' });
      await expect(m.predictNoise({ ...base, encoderHiddenStates: pattern(10) })).rejects.toMatchObject({ code: 'bad-argument' });
      const { timestepCond: _drop, ...noCond } = base;
      await expect(m.predictNoise(noCond)).rejects.toThrow(/timestepCond/);
      await expect(m.encodeText([[1, 2], [1]])).rejects.toMatchObject({ code: 'bad-argument' });
      await expect(m.encodeText([new Array<number>(78).fill(1)])).rejects.toMatchObject({ code: 'bad-argument' });
      await expect(m.encodeImage(pattern(3 * 12 * 12), 12, 12)).rejects.toMatchObject({ code: 'bad-argument' });
      await expect(m.decodeLatents(pattern(5), 1, 1, 1)).rejects.toMatchObject({ code: 'bad-argument' });
    } finally {
      await m.dispose();
    }
    await expect(m.decodeLatents(pattern(4), 1, 1, 1)).rejects.toThrow(/disposed/);
  });
});
