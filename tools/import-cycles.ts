// Import cycles in src-main: between folders (engine/<part> counts as its own folder) and between the files of
// src-main/shared. `npx tsx tools/import-cycles.ts` prints them and exits 1 when there is one;
// tests/tools/import-cycles.test.ts keeps the tree free of them.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const IMPORT_RE = /(?:import|export)\s+(?:type\s+)?(?:[^'";]*?\sfrom\s+)?['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g;

export interface ImportCycles {
  /** Each a set of folders that import each other, with one import per edge as the example. */
  folders: Array<{ members: string[]; examples: string[] }>;
  /** Each a set of src-main/shared files that import each other. */
  sharedFiles: string[][];
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile() && /\.(ts|svelte)$/.test(e.name))
    .map((e) => path.join(e.parentPath, e.name));
}

function resolveImport(from: string, spec: string): string | null {
  if (!spec.startsWith('.')) return null;
  const base = path.resolve(path.dirname(from), spec).replace(/\.js$/, '');
  for (const candidate of [`${base}.ts`, base, path.join(base, 'index.ts')]) if (existsSync(candidate) && statSync(candidate).isFile()) return candidate;
  return null;
}

/** Tarjan's strongly connected components with more than one member. */
function cycles<T>(nodes: Iterable<T>, next: (n: T) => Iterable<T>): T[][] {
  let counter = 0;
  const index = new Map<T, number>();
  const low = new Map<T, number>();
  const stack: T[] = [];
  const onStack = new Set<T>();
  const found: T[][] = [];
  const visit = (v: T): void => {
    index.set(v, counter);
    low.set(v, counter++);
    stack.push(v);
    onStack.add(v);
    for (const w of next(v)) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) !== index.get(v)) return;
    const members: T[] = [];
    let w: T;
    do {
      w = stack.pop()!;
      onStack.delete(w);
      members.push(w);
    } while (w !== v);
    if (members.length > 1) found.push(members);
  };
  for (const n of nodes) if (!index.has(n)) visit(n);
  return found;
}

export function findImportCycles(srcMain: string): ImportCycles {
  const imports = new Map<string, Set<string>>();
  for (const file of sourceFiles(srcMain)) {
    const targets = new Set<string>();
    for (const m of readFileSync(file, 'utf8').matchAll(IMPORT_RE)) {
      const target = resolveImport(file, (m[1] ?? m[2])!);
      if (target) targets.add(target);
    }
    imports.set(file, targets);
  }
  const folderOf = (file: string): string => {
    const parts = path.relative(srcMain, file).split(path.sep);
    if (parts.length === 1) return '.';
    return parts[0] === 'engine' && parts.length > 2 ? `engine/${parts[1]}` : parts[0]!;
  };
  const folderEdges = new Map<string, Map<string, string>>();
  for (const [file, targets] of imports) {
    for (const target of targets) {
      const a = folderOf(file);
      const b = folderOf(target);
      if (a === b) continue;
      if (!folderEdges.has(a)) folderEdges.set(a, new Map());
      if (!folderEdges.get(a)!.has(b)) folderEdges.get(a)!.set(b, `${path.relative(srcMain, file)} -> ${path.relative(srcMain, target)}`);
    }
  }
  const folders = cycles(new Set([...imports.keys()].map(folderOf)), (f) => folderEdges.get(f)?.keys() ?? []).map((members) => ({
    members: members.sort(),
    examples: members.flatMap((a) => members.flatMap((b) => folderEdges.get(a)?.get(b) ?? [])),
  }));
  const sharedDir = path.join(srcMain, 'shared');
  const inShared = (f: string): boolean => path.dirname(f) === sharedDir;
  const sharedFiles = cycles([...imports.keys()].filter(inShared), (f) => [...imports.get(f)!].filter(inShared)).map((c) =>
    c.map((f) => path.relative(srcMain, f)).sort(),
  );
  return { folders, sharedFiles };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'src-main');
  const { folders, sharedFiles } = findImportCycles(root);
  for (const c of folders) console.log(`folder cycle: ${c.members.join(' <-> ')}\n  ${c.examples.join('\n  ')}`);
  for (const c of sharedFiles) console.log(`src-main/shared file cycle: ${c.join(' <-> ')}`);
  if (folders.length + sharedFiles.length === 0) console.log('no import cycles');
  process.exitCode = folders.length + sharedFiles.length === 0 ? 0 : 1;
}
