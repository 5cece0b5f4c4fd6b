// A child process for two-writers.test.ts: one gallery on a folder another process also writes to. Reads
// commands on stdin, one per line, and answers each on stdout when it is done:
//   add <name> <count> <createdAt>   saves <count> images at the same time and seed   → `saved <id> <prompt>`… then `ok`
//   star <id>…                       stars them                                       → `ok`
//   compact                          rewrites the journal                             → `ok`
//   close                            closes the gallery and exits                     → `ok`
// Usage: node --import tsx two-writers-child.ts <outDir>
import { createInterface } from 'node:readline';
import { Gallery } from '../../src-main/gallery/index.js';
import { ourPng } from './helpers.js';

const [outDir] = process.argv.slice(2) as [string];
const out = (line: string): void => void process.stdout.write(`${line}\n`);

async function main(): Promise<void> {
  const { gallery } = await Gallery.open(outDir, { thumbnails: false });
  out('ready');
  for await (const line of createInterface({ input: process.stdin })) {
    const [cmd, ...args] = line.trim().split(' ');
    if (cmd === 'add') {
      const [name, count, createdAt] = args as [string, string, string];
      // Different pixels and prompts per writer, the same time and seed: every image wants the same file name.
      const saves = Array.from({ length: Number(count) }, async (_, i) => {
        const prompt = `${name} ${i}`;
        const item = await gallery.add(await ourPng(prompt, 7), { createdAt: Number(createdAt) });
        out(`saved ${item.id} ${prompt.replace(' ', '_')}`);
      });
      await Promise.all(saves);
    } else if (cmd === 'star') {
      await gallery.star(args, true);
    } else if (cmd === 'compact') {
      await gallery.compact();
    } else if (cmd === 'close') {
      await gallery.close();
      out('ok');
      process.exit(0);
    }
    out('ok');
  }
}

main().catch((error: unknown) => {
  out(`fatal ${(error as Error).stack ?? String(error)}`);
  process.exit(1);
});
