export {
  listSupportedBackends,
  normalizeBackendName,
  buildSessionOptions,
  createSession,
  floatTensor,
  intTensor,
  numericTensor,
  toFloat32,
  product,
  KNOWN_BACKENDS,
  runtimeIdentity,
} from './runtime.js';
export type {
  BackendInfo,
  KnownBackend,
  SessionConfig,
  CreateSessionOptions,
  OnnxSession,
  TensorValue,
  TensorType,
  TensorData,
  IoMeta,
} from './runtime.js';
export { float32ToFloat16, float16ToFloat32, toFloat16Bits, fromFloat16Bits } from './float16.js';
export {
  AUTO_ORDER,
  probeBackend,
  probeAllBackends,
  chooseAutoBackend,
  autoChoiceFrom,
  rememberAutoChoice,
  forgetAutoChoice,
  defaultBackendCacheFile,
  failureReason,
} from './backends.js';
export type { BackendProbe, AutoChoice, ProbeOptions } from './backends.js';
