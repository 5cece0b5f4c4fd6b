// Runs the metadata parsers on hostile inputs (generated here, ~1 MB each) and prints what they returned as one
// JSON line. A separate process so that the parent can stop a parser that would never finish (the regex and graph
// walks these inputs were made against took minutes to forever).
import { parseInfotext } from '../../src-main/engine/image/infotext.js';
import { parametersFromText } from '../../src-main/gallery/parameters.js';

const MB = 1_000_000;

// A1111 infotext whose last line ends in a 1 MB run of key characters with no ':' (quadratic for a backtracking regex).
const keyRun = parseInfotext(`a prompt\nSteps: 20, Sampler: Euler a, Seed: 5, ${'ab '.repeat(MB / 3)}`);
// A 1 MB last line that is not parameters at all: it becomes the prompt.
const plainLine = parseInfotext(`first line\n${'x'.repeat(MB)}`);
// 30 inputs of a node linking back to itself: every path is walked by a search without memory (30^16 paths).
const fanout: Record<string, unknown> = {
  '1': { class_type: 'KSampler', inputs: { positive: ['2', 0], negative: ['2', 0], seed: 1, steps: 4, cfg: 7 } },
  '2': { class_type: 'Loop', inputs: { ...Object.fromEntries(Array.from({ length: 30 }, (_, i) => [`in${i}`, ['2', 0]])), last: ['3', 0] } },
  '3': { class_type: 'CLIPTextEncode', inputs: { text: 'found it' } },
};
const comfy = parametersFromText({ prompt: JSON.stringify(fanout) });
// The same in a UI workflow graph.
const links = [[1, 2, 0, 1, 0, 'CONDITIONING'], ...Array.from({ length: 30 }, (_, i) => [100 + i, 2, 0, 2, i, 'CONDITIONING']), [200, 3, 0, 2, 30, 'CONDITIONING']];
const workflow = {
  nodes: [
    { id: 1, type: 'KSampler', inputs: [{ name: 'positive', link: 1 }], widgets_values: [1, 'fixed', 4, 7, 'euler', 'normal', 1] },
    { id: 2, type: 'Loop', inputs: [...Array.from({ length: 30 }, (_, i) => ({ name: `in${i}`, link: 100 + i })), { name: 'last', link: 200 }] },
    { id: 3, type: 'CLIPTextEncode', inputs: [], widgets_values: ['found it too'] },
  ],
  links,
};
const comfyWorkflow = parametersFromText({ workflow: JSON.stringify(workflow) });
// InvokeAI 2 "prompt [negative]" with 200k '[' and no ']' (quadratic for /^(.*?)\s*\[(.*)\]\s*$/s).
const brackets = '['.repeat(200_000);
const legacy = parametersFromText({ 'sd-metadata': JSON.stringify({ image: { prompt: brackets } }) });

console.log(
  JSON.stringify({
    keyRun: { prompt: keyRun.prompt, params: keyRun.params },
    plainLine: { promptLength: plainLine.prompt.length, params: plainLine.params },
    comfy: { prompt: comfy.prompt, negativePrompt: comfy.negativePrompt, steps: comfy.steps },
    comfyWorkflow: { prompt: comfyWorkflow.prompt, steps: comfyWorkflow.steps },
    legacy: { promptIsInput: legacy.prompt === brackets, negativePrompt: legacy.negativePrompt },
  }),
);
