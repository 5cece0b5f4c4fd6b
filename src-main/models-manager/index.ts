// The model manager: the models folder (list, import, remove) and downloads of ONNX Stable Diffusion
// repositories from the Hugging Face hub. Plain Node (no Electron): used by the CLI and the studio service.
export { ModelManagerError, type ModelManagerErrorCode } from './errors.js';
export { HubClient, DEFAULT_ENDPOINT, nextLink, validateRepoId, type HubOptions, type TreeEntry } from './hub.js';
export { selectFiles, repoPathProblem, type PlannedFile } from './select.js';
export { downloadModel, defaultModelName, stagingId, type DownloadOptions, type DownloadProgress, type DownloadResult } from './download.js';
export {
  importModel,
  listInstalled,
  listPartialDownloads,
  removeModel,
  describeInstalled,
  validateModelName,
  STAGING_DIR,
  SOURCE_FILE,
  type ImportOptions,
  type InstalledModel,
  type PartialDownload,
} from './registry.js';
export { defaultUserModelsDir } from './paths.js';
