// The studio contract, importable from the renderer (pure TS + zod).
export * from './contract.js';
export * from './wire.js';
export * from './wire-client.js';
export * from './ipc.js';
export * from './names.js';
