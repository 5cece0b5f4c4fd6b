// Reference data lives in ../shared beside the checkout (read-only, never copied into the project).
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

export function sharedPath(...parts: string[]): string {
  return path.resolve(repoRoot, '../shared', ...parts);
}

export function readJsonl<T = Record<string, unknown>>(file: string): T[] {
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as T);
}

export function readSharedJsonl<T = Record<string, unknown>>(...parts: string[]): T[] {
  return readJsonl<T>(sharedPath(...parts));
}
