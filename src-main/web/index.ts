export { startWebHost, type WebHost, type WebHostOptions } from './web-host.js';
export { runServe, defaultRendererDir, type ServeOptions } from './serve.js';
