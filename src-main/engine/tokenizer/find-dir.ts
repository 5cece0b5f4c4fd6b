// Where a model folder keeps its CLIP tokenizer: the diffusers `tokenizer/` folder, or the folder itself.
import { access } from 'node:fs/promises';
import path from 'node:path';

async function readable(file: string): Promise<boolean> {
  return access(file).then(
    () => true,
    () => false,
  );
}

/** `<modelDir>/tokenizer` or `modelDir` itself, the first that holds vocab.json and merges.txt; null when neither does. */
export async function findTokenizerDir(modelDir: string): Promise<string | null> {
  for (const dir of [path.join(modelDir, 'tokenizer'), modelDir]) {
    if ((await readable(path.join(dir, 'vocab.json'))) && (await readable(path.join(dir, 'merges.txt')))) return dir;
  }
  return null;
}
