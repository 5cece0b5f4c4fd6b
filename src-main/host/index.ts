// The studio host (plain Node, no Electron): service, engine channel, settings, models.
export { StudioService, type StudioServiceOptions, type EventSink, type StudioConnection, type StudioHandlers, type LogLevel } from './studio-service.js';
export { ChannelEngineClient, processWorkerChannel, threadWorkerChannel, type StudioEngine, type WorkerChannel, type WorkerChannelFactory, type EngineGenerateOptions } from './engine.js';
export { SettingsStore, sanitizeSettings } from './settings.js';
export { listModels, resolveModelDir, inspectModelDir, HostError } from './models.js';
export { defaultBundledModelsDir, defaultSettingsFile, defaultOutputDir } from './paths.js';
export { GalleryHost, type GalleryHostOptions } from './gallery-host.js';
export { contentSecurityPolicy, type CspOptions } from './csp.js';
