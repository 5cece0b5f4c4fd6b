// Durable files on disk, shared by the gallery, the autosave, the model manager and the CLI: crash-safe writes
// (temp file + fsync + rename + folder fsync), the temp-file names they use, CRC-32, and an existence check.
// Plain Node.
export { writeFileAtomic, fsyncDir, moveFileDurable, tempNameFor, isTempName, describeWriteError, realFs, type AtomicFs, type AtomicWriteOptions } from './atomic-file.js';
export { crc32 } from './crc32.js';
export { pathExists } from './exists.js';
