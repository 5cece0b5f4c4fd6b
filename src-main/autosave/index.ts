// Autosave of the canvas document (crash-safe writes live in ../durable/). Plain Node.
export { DocumentStore, AutosaveError, blobsOf, type DocumentStoreOptions } from './document-store.js';
