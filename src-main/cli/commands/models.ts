// `latent-studio models inspect DIR...`: what a model folder holds and whether the engine can run it.
import path from 'node:path';
import { inspectModel, type ComponentInspection, type ModelInspection } from '../../engine/model/index.js';
import { describeError, ExitCode } from '../errors.js';
import { formatBytes } from '../../shared/format.js';

export interface InspectOptions {
  json?: boolean;
}


function shapeText(shape: ReadonlyArray<number | string>): string {
  return `[${shape.map((d) => (d === -1 ? '?' : String(d))).join(', ')}]`;
}

function componentLines(name: string, c: ComponentInspection): string[] {
  if (!c.present) return [`  ${name}: absent`];
  const meta = [
    c.opset !== null ? `opset ${c.opset}` : null,
    c.irVersion !== null ? `IR ${c.irVersion}` : null,
    c.producer ? c.producer : null,
  ].filter(Boolean);
  const size = c.externalDataBytes > 0 ? `${formatBytes(c.bytes + c.externalDataBytes)} (weights in ${c.externalDataFiles.join(', ')})` : formatBytes(c.bytes);
  const lines = [`  ${c.file}  ${size}${meta.length ? `  ${meta.join(', ')}` : ''}`];
  const rows = [
    ...c.inputs.map((io) => ['in ', io.name, io.type, shapeText(io.shape)]),
    ...c.outputs.map((io) => ['out', io.name, io.type, shapeText(io.shape)]),
  ];
  const w1 = Math.max(0, ...rows.map((r) => r[1]!.length));
  const w2 = Math.max(0, ...rows.map((r) => r[2]!.length));
  for (const r of rows) lines.push(`    ${r[0]} ${r[1]!.padEnd(w1)}  ${r[2]!.padEnd(w2)}  ${r[3]}`);
  return lines;
}

export function formatInspection(m: ModelInspection): string {
  const lines: string[] = [];
  lines.push(`${m.name}  (${m.dir})`);
  lines.push(`  supported: ${m.supported ? 'yes' : 'NO'}`);
  lines.push(`  variant: ${m.variant ?? 'unknown'}${m.pipelineClassName ? `  (${m.pipelineClassName})` : ''}`);
  const info = m.info;
  if (info) {
    lines.push(
      `  family ${info.family}, ${info.dtype}, prediction ${info.predictionType}, scheduler ${info.schedulerClassName || 'default'}` +
        `, UNet ${info.unetInChannels} in-channels${info.isInpainting ? ' (inpainting)' : ''}` +
        `${info.timestepCondDim ? `, timestep_cond ${info.timestepCondDim} (LCM)` : ''}` +
        `, timestep ${info.timestepInput}, UNet batch ${info.unetMaxBatch === null ? 'any' : `at most ${info.unetMaxBatch}`}`,
    );
    lines.push(
      `  text: hidden ${info.textHiddenSize}, ${info.textMaxLength} tokens, input_ids ${info.inputIdsType}; VAE: scaling ${info.vaeScalingFactor}, ${info.latentChannels} latent channels, encoder ${info.vaeEncoder ?? 'none'}`,
    );
  }
  const dtypes = Object.entries(m.dtypes)
    .map(([k, v]) => `${k} ${v ?? '-'}`)
    .join(', ');
  lines.push(`  dtypes: ${dtypes}`);
  lines.push(`  size: ${formatBytes(m.totalBytes)}`);
  lines.push('  components:');
  for (const [name, c] of Object.entries(m.components)) lines.push(...componentLines(name, c).map((l) => `  ${l}`));
  for (const w of m.warnings) lines.push(`  warning: ${w}`);
  if (!m.supported) {
    lines.push('  not supported because:');
    const problems = m.problems.length ? m.problems : m.issues.map((i) => i.message);
    for (const p of problems.length ? problems : ['(no reason given)']) lines.push(`    - ${p}`);
  }
  return lines.join('\n');
}

/**
 * Prints every folder; exit code 0 when all are supported, 3 when one was read but is not supported,
 * 2 when one is missing (the others are still printed).
 */
export async function runModelsInspect(dirs: string[], options: InspectOptions, out: NodeJS.WritableStream = process.stdout, err: NodeJS.WritableStream = process.stderr): Promise<number> {
  let code: number = ExitCode.ok;
  const json: unknown[] = [];
  const blocks: string[] = [];
  for (const dir of dirs) {
    try {
      const m = await inspectModel(path.resolve(dir));
      if (!m.supported && code === ExitCode.ok) code = ExitCode.unsupported;
      if (options.json) json.push(m);
      else blocks.push(formatInspection(m));
    } catch (error) {
      code = ExitCode.usage;
      const message = `'${dir}': ${describeError(error)}`;
      if (options.json) json.push({ dir: path.resolve(dir), error: describeError(error), code: (error as { code?: string }).code ?? 'error' });
      err.write(`error: ${message}\n`);
    }
  }
  if (options.json) out.write(`${JSON.stringify(json, null, 2)}\n`);
  else if (blocks.length) out.write(`${blocks.join('\n\n')}\n`);
  return code;
}
