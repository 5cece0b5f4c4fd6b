// WebP thumbnails with sharp, for Node hosts (the browser host, the CLI). NOT for the Electron main process,
// which must not load native modules: it uses the pure-JS pngThumbnailer. sharp is imported lazily.
import type { Thumbnailer } from './png-lite.js';

export const sharpWebpThumbnailer: Thumbnailer = {
  ext: 'webp',
  mime: 'image/webp',
  async make(png, size) {
    const { default: sharp } = await import('sharp');
    const out = await sharp(png).resize(size, size, { fit: 'inside', withoutEnlargement: true }).webp({ quality: 78 }).toBuffer();
    return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
  },
};
