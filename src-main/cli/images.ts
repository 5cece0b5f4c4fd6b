// Reading the images given on the command line (init image, mask) and encoding preview frames.
import { readFile, stat } from 'node:fs/promises';
import sharp from 'sharp';
import { usageError } from './errors.js';

export interface ImageFile {
  path: string;
  bytes: Uint8Array;
  width: number;
  height: number;
  format: string;
}

/** Reads and probes an image; any problem is a usage error naming the flag. */
export async function readImageFile(file: string, flag: string): Promise<ImageFile> {
  let bytes: Buffer;
  try {
    bytes = await readFile(file);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const reason =
      code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'it is a directory' : code === 'EACCES' ? 'permission denied' : (error as Error).message;
    throw usageError(`cannot read ${flag} image '${file}': ${reason}`);
  }
  try {
    const meta = await sharp(bytes).metadata();
    if (!meta.width || !meta.height || !meta.format) throw new Error('not an image');
    return { path: file, bytes: new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength), width: meta.width, height: meta.height, format: meta.format };
  } catch (error) {
    throw usageError(`cannot read ${flag} image '${file}': not a supported image (${(error as Error).message})`);
  }
}

/** Fails with a usage error unless `dir` is an existing directory. */
export async function requireDirectory(dir: string, flag: string): Promise<void> {
  let info;
  try {
    info = await stat(dir);
  } catch {
    throw usageError(`${flag} '${dir}': no such directory`);
  }
  if (!info.isDirectory()) throw usageError(`${flag} '${dir}': not a directory`);
}

/** PNG bytes of an RGBA (or RGB) frame. */
export async function encodeRgbaPng(rgba: Uint8Array | Uint8ClampedArray, width: number, height: number): Promise<Buffer> {
  const channels = rgba.length === width * height * 3 ? 3 : 4;
  if (rgba.length !== width * height * channels) {
    throw new Error(`preview frame of ${rgba.length} bytes does not match ${width}x${height}`);
  }
  const raw = Buffer.from(rgba.buffer, rgba.byteOffset, rgba.byteLength);
  return sharp(raw, { raw: { width, height, channels } }).png({ compressionLevel: 1 }).toBuffer();
}
