// `latent-studio backends`: which execution providers really run on this machine. Each is probed by creating
// and running a tiny session on it; one line per backend, `works` or `fails: <reason>` plus what to do about it.
// The probe also refreshes the choice that `--backend auto` remembers.
import {
  autoChoiceFrom,
  defaultBackendCacheFile,
  listSupportedBackends,
  probeAllBackends,
  rememberAutoChoice,
  type BackendProbe,
} from '../../engine/onnx/index.js';

export interface BackendsOptions {
  json?: boolean;
}

const CUDA_INSTALL =
  'to get it: an NVIDIA driver with CUDA 12 and cuDNN 9, then `ONNXRUNTIME_NODE_INSTALL=cuda12 npm rebuild onnxruntime-node` (fetches the provider libraries)';

/** What a user can do about a backend that fails here; undefined when there is nothing to say. */
export function backendAdvice(probe: BackendProbe, platform = process.platform, arch = process.arch): string | undefined {
  if (probe.works) return undefined;
  const where = `${platform}-${arch}`;
  switch (probe.name) {
    case 'cuda':
      return where === 'linux-x64' ? CUDA_INSTALL : 'onnxruntime-node has CUDA on Linux x64 only (on Windows use dml)';
    case 'tensorrt':
      return where === 'linux-x64' ? 'needs TensorRT 10 besides the CUDA provider libraries (see cuda)' : 'Linux x64 only';
    case 'dml':
      return platform === 'win32' ? 'needs a DirectX 12 GPU and driver' : 'Windows only';
    case 'coreml':
      return where === 'darwin-arm64' ? undefined : 'macOS on Apple silicon only';
    case 'webgpu':
      return 'needs a GPU driver with Vulkan (Linux), Direct3D 12 (Windows) or Metal (macOS)';
    default:
      return undefined;
  }
}

export function formatBackendLine(probe: BackendProbe, width: number): string {
  const state = probe.works ? 'works' : `fails: ${probe.reason ?? 'unknown reason'}`;
  const advice = backendAdvice(probe);
  return `${probe.name.padEnd(width)}  ${state}${advice ? ` — ${advice}` : ''}`;
}

export async function runBackends(options: BackendsOptions, out: NodeJS.WritableStream = process.stdout): Promise<number> {
  const probes = await probeAllBackends();
  const choice = autoChoiceFrom(probes);
  const cacheFile = defaultBackendCacheFile();
  await rememberAutoChoice(choice, cacheFile);
  if (options.json) {
    const build = new Map(listSupportedBackends().map((b) => [b.name, b]));
    const list = probes.map((p) => ({ ...p, listed: build.get(p.name)?.listed ?? false, bundled: build.get(p.name)?.bundled ?? false }));
    out.write(`${JSON.stringify({ backends: list, auto: choice.backend })}\n`);
    return 0;
  }
  const width = Math.max(...probes.map((p) => p.name.length));
  for (const probe of probes) out.write(`${formatBackendLine(probe, width)}\n`);
  out.write(`\nauto picks ${choice.backend} (the fastest that works; remembered in ${cacheFile})\n`);
  return 0;
}
