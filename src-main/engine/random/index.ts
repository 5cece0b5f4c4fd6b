// Torch-exact random numbers for the engine: `new TorchGenerator(seed).randn(shape)`.
export { TorchGenerator, MAX_TORCH_SEED, normalizeTorchSeed, shapeNumel } from './torch-generator.js';
export type { TorchSeed } from './torch-generator.js';
export { MT19937 } from './mt19937.js';
