// Channel and event names, zod-free (the sandboxed preload bundles only this and ipc.ts).
import type { Channel, EventName } from './contract.js';

export const CHANNELS = [
  'generate',
  'cancel',
  'getQueue',
  'listModels',
  'inspectModel',
  'getSettings',
  'setSettings',
  'listBackends',
  'countTokens',
  'tokenize',
  'getAppInfo',
  // gallery, history, autosave (shared/gallery.ts)
  'galleryList',
  'galleryThumbnails',
  'galleryImage',
  'galleryStar',
  'galleryTrash',
  'galleryRestore',
  'galleryPurge',
  'galleryReveal',
  'galleryRebuild',
  'readImageParameters',
  'autosaveSave',
  'autosaveLoad',
  'autosaveClear',
  // model manager (shared/model-manager.ts)
  'modelManagerInfo',
  'downloadModel',
  'cancelDownload',
  'importModel',
  'removeModel',
] as const satisfies readonly Channel[];

export function isChannel(name: unknown): name is Channel {
  return typeof name === 'string' && (CHANNELS as readonly string[]).includes(name);
}

export const EVENTS = [
  'jobQueued',
  'jobStarted',
  'progress',
  'preview',
  'image',
  'result',
  'jobError',
  'jobCancelled',
  'queue',
  'settingsChanged',
  'notice',
  'galleryChanged',
  'downloadProgress',
  'downloadDone',
  'downloadError',
  'modelsChanged',
] as const satisfies readonly EventName[];

export function isEventName(name: unknown): name is EventName {
  return typeof name === 'string' && (EVENTS as readonly string[]).includes(name);
}

