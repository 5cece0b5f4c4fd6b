// Autosave of the canvas document and crash-safe file writes. Plain Node.
export { DocumentStore, AutosaveError, blobsOf, type DocumentStoreOptions } from './document-store.js';
export { writeFileAtomic, fsyncDir, moveFileDurable, tempNameFor, isTempName, describeWriteError, realFs, type AtomicFs, type AtomicWriteOptions } from './atomic-file.js';
