// Reading the images given on the command line (init image, mask) and encoding preview frames.
import { constants } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import sharp from 'sharp';
import { usageError } from './errors.js';

/** The largest input file the CLI reads (an init image or mask; the browser host's frame limit is the same). */
export const MAX_INPUT_FILE_BYTES = 256 * 1024 * 1024;

/**
 * Reads a regular file of at most `limit` bytes. Devices (/dev/zero), FIFOs and folders are refused before a
 * byte is read, and a file that grows while it is read is refused: a hostile path can neither hang the
 * CLI nor fill its memory. O_NONBLOCK: opening a FIFO must not wait for a writer; the check that follows
 * (on the open handle, so a swapped path cannot slip through) then refuses it.
 */
export async function readBoundedFile(file: string, limit = MAX_INPUT_FILE_BYTES): Promise<Buffer> {
  const handle = await open(file, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0));
  try {
    const info = await handle.stat();
    if (info.isDirectory()) throw Object.assign(new Error('it is a directory'), { code: 'EISDIR' });
    if (!info.isFile()) throw Object.assign(new Error('not a regular file (a device, pipe or socket)'), { code: 'ENOTREGULAR' });
    if (info.size > limit) throw Object.assign(new Error(`${info.size} bytes, more than the limit of ${limit}`), { code: 'ETOOBIG' });
    // One byte more than the size stat gave: a file still growing is noticed, never read past its size + 1.
    const buffer = Buffer.alloc(info.size + 1);
    let length = 0;
    while (length < buffer.length) {
      const { bytesRead } = await handle.read(buffer, length, buffer.length - length, null);
      if (bytesRead === 0) break;
      length += bytesRead;
    }
    if (length > info.size) throw Object.assign(new Error('it changed while being read'), { code: 'ECHANGED' });
    return buffer.subarray(0, length);
  } finally {
    await handle.close();
  }
}

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
    bytes = await readBoundedFile(file);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const reason = code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : (error as Error).message;
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
