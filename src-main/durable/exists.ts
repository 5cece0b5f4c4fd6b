import { lstat } from 'node:fs/promises';

/** True when something (file, folder, even a dangling link) is at `p`; false when nothing is or it cannot be seen. */
export async function pathExists(p: string): Promise<boolean> {
  try {
    await lstat(p);
    return true;
  } catch {
    return false;
  }
}
