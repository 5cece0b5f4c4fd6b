// Channel and event names, zod-free (the sandboxed preload bundles only this and ipc.ts). contract.ts checks at
// compile time that these lists match its StudioRequests / StudioEvents exactly.

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
] as const;
export type ListedChannel = (typeof CHANNELS)[number];

export function isChannel(name: unknown): name is ListedChannel {
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
] as const;
export type ListedEvent = (typeof EVENTS)[number];

export function isEventName(name: unknown): name is ListedEvent {
  return typeof name === 'string' && (EVENTS as readonly string[]).includes(name);
}

