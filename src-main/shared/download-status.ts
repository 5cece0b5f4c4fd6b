// zod-free helpers for DownloadStatus (the renderer imports this without pulling in the schemas).
import type { DownloadStatus } from './model-manager.js';

/** A download's first status, before its file list is known (the host's initial state, the renderer's placeholder). */
export function listingDownloadStatus(start: Pick<DownloadStatus, 'downloadId' | 'repo' | 'revision' | 'name' | 'subfolder'>): DownloadStatus {
  return { ...start, phase: 'listing', file: '', fileIndex: 0, fileCount: 0, bytes: 0, totalBytes: 0, bytesPerSecond: 0, startedAt: Date.now() };
}
