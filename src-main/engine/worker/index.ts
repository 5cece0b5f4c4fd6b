export {
  EngineClient,
  engineWorkerLocation,
  type EngineClientOptions,
  type ClientGenerateOptions,
  type EngineWorkerLocation,
  type EngineChannel,
  type EngineChannelExit,
} from './client.js';
export {
  EngineError,
  serializeError,
  type EngineRequest,
  type EngineEvent,
  type ModelRef,
  type SerializedError,
  type PromptTokenIds,
  type BackendInfo,
} from './protocol.js';
export { getEnginePort, type EnginePort } from './port.js';
