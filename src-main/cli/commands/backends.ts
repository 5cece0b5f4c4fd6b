// `latent-studio backends`: the execution providers this onnxruntime-node build knows.
import { listSupportedBackends } from '../../engine/onnx/index.js';

export interface BackendsOptions {
  json?: boolean;
}

const NOTES: Record<string, string> = {
  cpu: 'always available',
  cuda: 'NVIDIA GPUs; needs CUDA 12 and the provider libraries (onnxruntime-node install with ONNXRUNTIME_NODE_INSTALL=cuda12)',
  tensorrt: 'NVIDIA TensorRT; needs the provider libraries',
  dml: 'DirectML (Windows, any DirectX 12 GPU)',
  coreml: 'Core ML (macOS arm64)',
  webgpu: 'experimental; needs a GPU with Vulkan/Metal/D3D12',
};

export function runBackends(options: BackendsOptions, out: NodeJS.WritableStream = process.stdout): number {
  const backends = listSupportedBackends();
  if (options.json) {
    out.write(`${JSON.stringify(backends)}\n`);
    return 0;
  }
  const width = Math.max(...backends.map((b) => b.name.length));
  for (const b of backends) {
    const bundled = !b.listed ? 'not in this build' : b.bundled ? 'bundled' : 'not bundled';
    const note = NOTES[b.name];
    out.write(`${b.name.padEnd(width)}  ${bundled}${note ? `  (${note})` : ''}\n`);
  }
  return 0;
}
