// Which files of a hub repository an ONNX Stable Diffusion pipeline (diffusers/optimum layout) needs.
import { ModelManagerError } from './errors.js';
import type { TreeEntry } from './hub.js';

/** A file to download: `path` in the repository, `local` relative to the model folder. */
export interface PlannedFile {
  path: string;
  local: string;
  size: number;
  /** sha256 (hex) for LFS files. */
  sha256?: string;
  /** Git blob sha1 (hex) for small files stored in git (the tree's `oid`). */
  gitSha1?: string;
}

// text_encoder_2 / tokenizer_2: SDXL's second text encoder and tokenizer.
const ONNX_COMPONENTS = ['text_encoder', 'text_encoder_2', 'unet', 'vae_encoder', 'vae_decoder'] as const;
const REQUIRED_ONNX = ['text_encoder/model.onnx', 'unet/model.onnx', 'vae_decoder/model.onnx'];
/** Weights in other formats, variants, docs: never needed by the ONNX engine. */
const SKIP_EXT = /\.(safetensors|bin|ckpt|pt|pth|msgpack|h5|ot|gguf|md|png|jpe?g|webp|gif|txt\.bak)$/i;

const WINDOWS_DEVICE = /^(con|prn|aux|nul|com[0-9¹²³]|lpt[0-9¹²³]|conin\$|conout\$)(\..*)?$/i;

/**
 * Why a repository path is unsafe to write under the model folder on some platform, or null when it is safe.
 * The hub's names are POSIX paths, but the same name is joined with Windows' path rules there: a backslash, a
 * drive letter, ':' (an NTFS stream), a device name (NUL, COM1.json) or a trailing dot/space all mean something
 * else than a plain file name, and '..' leaves the folder everywhere.
 */
export function repoPathProblem(p: string): string | null {
  if (p === '' || p.length > 1024) return 'empty or too long';
  if (/[\x00-\x1f\x7f]/.test(p)) return 'control character';
  if (p.includes('\\')) return 'backslash';
  if (p.startsWith('/')) return 'absolute path';
  if (/[<>:"|?*]/.test(p)) return 'character not allowed on Windows (< > : " | ? *)';
  for (const segment of p.split('/')) {
    if (segment === '' || segment === '.' || segment === '..') return `"${segment}" path segment`;
    if (/[. ]$/.test(segment)) return 'segment ending in a dot or space';
    if (WINDOWS_DEVICE.test(segment)) return `Windows device name "${segment}"`;
  }
  return null;
}

function keepInComponent(name: string): boolean {
  if (name.includes('/')) return false; // nested folders (e.g. unet/fp16/...) are variants
  if (SKIP_EXT.test(name)) return false;
  if (name === 'config.json' || name === 'model.onnx' || name === 'model.onnx_data' || name === 'weights.pb') return true;
  if (name.endsWith('.onnx')) return false; // model_fp16.onnx, model_quantized.onnx...: other variants
  if (name.endsWith('.onnx_data') || name.endsWith('.onnx.data')) return /^model\.onnx[._]data$/.test(name) || (!name.includes('fp16') && !name.includes('quant'));
  if (name.endsWith('.json')) return false; // other configs are not read by the engine
  // Old optimum exports keep external tensors as extension-less files next to model.onnx.
  return !name.includes('.') || name.endsWith('.pb');
}

function keepInTextDir(name: string): boolean {
  return !name.includes('/') && /\.(json|txt)$/i.test(name);
}

/**
 * Picks the pipeline's files from the tree. `subfolder` (when given) is the repository folder holding
 * model_index.json; local paths are relative to it. Throws 'not-onnx' with a clear reason when the repository
 * does not hold an ONNX diffusers-layout pipeline.
 */
export function selectFiles(tree: readonly TreeEntry[], repo: string, subfolder?: string): PlannedFile[] {
  const sub = subfolder?.replace(/^\/+|\/+$/g, '');
  const subProblem = sub ? repoPathProblem(sub) : null;
  if (subProblem) throw new ModelManagerError('invalid', `Bad subfolder "${subfolder}" (${subProblem}).`);
  const prefix = sub ? `${sub}/` : '';
  const files = tree.filter((e) => e.type === 'file' && e.path.startsWith(prefix));
  const out: PlannedFile[] = [];
  for (const e of files) {
    const local = e.path.slice(prefix.length);
    const slash = local.indexOf('/');
    const top = slash === -1 ? '' : local.slice(0, slash);
    const rest = slash === -1 ? local : local.slice(slash + 1);
    let keep = false;
    if (top === '') keep = local === 'model_index.json';
    else if (top === 'scheduler') keep = rest === 'scheduler_config.json';
    else if (top === 'tokenizer' || top === 'tokenizer_2') keep = keepInTextDir(rest);
    else if ((ONNX_COMPONENTS as readonly string[]).includes(top)) keep = keepInComponent(rest);
    if (!keep) continue;
    // Checked before the path is ever joined to a folder, on every platform's rules.
    const problem = repoPathProblem(e.path);
    if (problem) {
      throw new ModelManagerError('invalid', `${repo} lists a file with an unsafe name ${JSON.stringify(e.path)} (${problem}); nothing was downloaded.`, { details: [e.path] });
    }
    const planned: PlannedFile = { path: e.path, local, size: e.lfs?.size ?? e.size };
    if (e.lfs) {
      if (/^[0-9a-f]{64}$/i.test(e.lfs.oid)) planned.sha256 = e.lfs.oid.toLowerCase();
    } else if (/^[0-9a-f]{40}$/i.test(e.oid)) planned.gitSha1 = e.oid.toLowerCase();
    if (!planned.sha256 && !planned.gitSha1) {
      // Every file the hub serves has one; a file without is one nobody can check, so it is not installed.
      throw new ModelManagerError('checksum', `${repo}: the hub gives no sha256 or git hash for ${e.path}, so it cannot be verified; nothing was downloaded.`, { details: [e.path] });
    }
    out.push(planned);
  }
  const have = new Set(out.map((f) => f.local));
  const missing = ['model_index.json', ...REQUIRED_ONNX].filter((f) => !have.has(f));
  if (missing.length > 0) {
    // Point at a folder that looks like the right one (e.g. an `onnx/` folder next to PyTorch weights).
    const hint = tree
      .filter((e) => e.type === 'file' && e.path.endsWith('/model_index.json') && e.path !== `${prefix}model_index.json`)
      .map((e) => e.path.slice(0, -'/model_index.json'.length))
      .filter((dir) => tree.some((x) => x.path === `${dir}/unet/model.onnx`));
    const where = subfolder ? `${repo} (folder ${subfolder})` : repo;
    const onnxCount = files.filter((e) => e.path.endsWith('.onnx')).length;
    let message = `${where} is not an ONNX Stable Diffusion repository in the diffusers layout: missing ${missing.join(', ')}`;
    if (hint.length > 0) message += `. It has one in ${hint.map((h) => `"${h}"`).join(', ')}: add --subfolder ${hint[0]}`;
    else if (onnxCount === 0) message += ' (it has no .onnx file at all; PyTorch/safetensors repositories must be exported to ONNX first, e.g. with optimum-cli export onnx)';
    throw new ModelManagerError('not-onnx', `${message}.`, { details: missing.map((m) => `missing ${m}`) });
  }
  return out.sort((a, b) => a.local.localeCompare(b.local));
}
