// The `latent-studio` command line: commander program and the exit-code policy.
import { readFileSync } from 'node:fs';
import { Command, CommanderError, Option } from 'commander';
import { CliError, ExitCode, describeError } from './errors.js';
import { SCHEDULER_NAMES } from '../engine/pipeline/request.js';
import { parseImageSize, parseInteger, parseNumber, parseSeed, parseThreads } from './parse.js';

const BACKENDS = ['cpu', 'cuda', 'dml', 'coreml', 'webgpu', 'auto'];

function packageVersion(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version?: string };
    return pkg.version ?? '0.0.0';
  } catch {
    return '0.0.0';
  }
}

const EXIT_CODES_HELP = `
Exit codes:
  0    success
  1    the engine failed (a session could not run, inference error, write error)
  2    bad input (unknown option, invalid value, missing or unreadable file, a model
       folder the engine cannot use)
  3    models inspect/import/download: the model was read but is not supported
  130  cancelled with Ctrl+C (143 on SIGTERM)`;

export interface RunIO {
  stdout?: NodeJS.WritableStream;
  stderr?: NodeJS.WritableStream;
}

export function createProgram(io: RunIO = {}): { program: Command; result: { code: number } } {
  const stderr = io.stderr ?? process.stderr;
  const stdout = io.stdout ?? process.stdout;
  const result = { code: ExitCode.ok as number };
  const program = new Command('latent-studio');
  program
    .description('Stable Diffusion on ONNX Runtime, from the command line.')
    .version(packageVersion(), '-V, --version')
    .exitOverride()
    .showSuggestionAfterError(true)
    .configureOutput({
      writeOut: (s) => stdout.write(s),
      writeErr: (s) => stderr.write(s),
      outputError: (s, write) => write(s.endsWith('\n') ? s : `${s}\n`),
    })
    .addHelpText('after', EXIT_CODES_HELP);

  program
    .command('generate')
    .description('Generate images (text-to-image, image-to-image with --init, inpainting with --init and --mask).')
    .option('-m, --model <dir>', 'ONNX Stable Diffusion model folder, or the name of one in the models folder (models list); default: the shipped demo model')
    .option('-p, --prompt <text>', 'prompt (A1111 syntax: (word:1.2), [word], BREAK)')
    .option('-n, --negative <text>', 'negative prompt')
    .option('--init <image>', 'init image for image-to-image / inpainting (PNG, JPEG, WebP...)')
    .option('--strength <s>', 'img2img denoising strength, 0..1 (default 0.75)', parseNumber({ min: 0, max: 1 }))
    .option('--mask <image>', 'inpainting mask, same size as --init (white = repaint)')
    .option('--mask-blur <px>', 'mask feathering in pixels (default 4)', parseNumber({ min: 0 }))
    .option('--inpaint-only-masked', "inpaint only the mask's neighbourhood, at full resolution")
    .option('--inpaint-padding <px>', 'padding around the mask with --inpaint-only-masked (default 32)', parseInteger({ min: 0 }))
    .addOption(new Option('--fit <mode>', 'how an --init image of another size fits --width x --height (default crop)').choices(['crop', 'resize', 'fill']))
    .addOption(new Option('-s, --sampler <name>', "sampler (default: the model's own scheduler)").choices(SCHEDULER_NAMES))
    .option('--steps <n>', 'sampling steps (default 20)', parseInteger({ min: 1 }))
    .option('--cfg <scale>', 'classifier-free guidance scale (default 7)', parseNumber({ min: 0 }))
    .option('--eta <eta>', 'DDIM eta, 0..1 (default 0)', parseNumber({ min: 0, max: 1 }))
    .option('--low-memory', 'run the two CFG passes one after the other (half the UNet activation memory, a little slower)')
    .option('--seed <n>', 'seed, 0..2^64-1; -1 or omitted = random', parseSeed)
    .option('-W, --width <px>', 'width, a multiple of 8 (default 512; with --init, its width)', parseImageSize)
    .option('-H, --height <px>', 'height, a multiple of 8 (default 512; with --init, its height)', parseImageSize)
    .option('-b, --batch <n>', 'number of images, seeds seed, seed+1, ... (default 1)', parseInteger({ min: 1 }))
    .option(
      '-o, --out <file>',
      'output PNG; {seed} and {n} (1-based index) are replaced; with --batch > 1 and neither, -N goes before the extension (cat.png -> cat-1.png, cat-2.png)',
      'latent-{seed}.png',
    )
    .option('--preview-dir <dir>', 'save every live preview frame as PNG here (preview-<image>-<step>.png)')
    .option('--preview-every <n>', 'with --preview-dir: a preview every N steps (default 1)', parseInteger({ min: 1 }))
    .addOption(new Option('--backend <name>', 'execution provider (default cpu); auto: the fastest that works here (see `backends`)').choices(BACKENDS))
    .option('--threads <n>', 'CPU threads for ONNX Runtime, at most the logical CPUs (default: physical cores)', parseThreads)
    .option('--json', 'print a JSON array (path, seed, size, infotext) instead of the paths')
    .option('-q, --quiet', 'no progress on stderr')
    .addHelpText(
      'after',
      `
Progress goes to stderr (a bar on a terminal, one line per step otherwise); stdout gets the
output paths, one per line. Files are written atomically; Ctrl+C cancels (exit 130) and leaves
no partial file.

Examples:
  latent-studio generate -m ./sd15 -p "a lighthouse at dusk" --seed 42 -o lighthouse.png
  latent-studio generate -m ./sd15 -p "oil painting" --init photo.png --strength 0.6
  latent-studio generate -m ./sd15-inpaint -p "a red door" --init house.png --mask door.png`,
    )
    .action(async (options) => {
      const { runGenerate } = await import('./commands/generate.js');
      result.code = await runGenerate(options);
    });

  program
    .command('tokenize')
    .description("Show how a prompt is split into CLIP tokens and 75-token chunks (A1111 rules).")
    .argument('<text>', 'prompt text')
    .option('-m, --model <dir>', 'model folder (its tokenizer/) or model name (models list), or a folder with vocab.json and merges.txt; default: the shipped demo model')
    .option('--no-emphasis', 'treat ( ) [ ] and :weight literally')
    .option('--ids', 'also print the 77 ids of every chunk')
    .option('--json', 'print JSON: token count, limit, and every chunk with ids, weights and tokens')
    .action(async (text: string, options) => {
      const { runTokenize } = await import('./commands/tokenize.js');
      result.code = await runTokenize(text, options, stdout);
    });

  const models = program.command('models').description('Model folders: inspect, list, download, import, remove.');
  models
    .command('inspect')
    .description('Inspect ONNX Stable Diffusion model folders: variant, dtypes, inputs/outputs, sizes, supported or why not.')
    .argument('<dir...>', 'model folder(s)')
    .option('--json', 'print the inspections as JSON (one array)')
    .addHelpText('after', '\nExits 3 when a model was read but is not supported, 2 when a folder is missing.')
    .action(async (dirs: string[], options) => {
      const { runModelsInspect } = await import('./commands/models.js');
      result.code = await runModelsInspect(dirs, options, stdout);
    });

  // Model manager (src-main/models-manager): the models folder and Hugging Face hub downloads.
  const MODELS_DIR_HELP = 'models folder (default: env LATENT_STUDIO_MODELS_DIR, else the settings\' userModelsDir, else a per-user folder)';
  models
    .command('download')
    .description('Download an ONNX Stable Diffusion repository (diffusers layout) from the Hugging Face hub into the models folder.')
    .argument('<repo-id>', 'repository id, e.g. onnxruntime/sd-turbo')
    .option('--revision <rev>', 'branch, tag or commit (default main)')
    .option('--subfolder <dir>', 'repository folder that holds model_index.json (e.g. onnx)')
    .option('--name <name>', 'model folder name (default: the repository name)')
    .option('--models-dir <dir>', MODELS_DIR_HELP)
    .option('--token <token>', 'Hugging Face token for gated/private repositories (default: env HF_TOKEN)')
    .option('--json', 'print the installed model as JSON instead of its folder')
    .option('-q, --quiet', 'no progress on stderr')
    .addHelpText(
      'after',
      `
Only the files a pipeline needs are fetched (model_index.json, scheduler/, tokenizer/, text_encoder/,
unet/ with its external weights, vae_encoder/, vae_decoder/); each is checked (size, sha256). Ctrl+C
stops; running the same command again resumes. The model is registered only when complete and supported.
Honours HTTPS_PROXY / HTTP_PROXY / NO_PROXY, HF_ENDPOINT and HF_TOKEN.

Example:
  latent-studio models download onnxruntime/sd-turbo`,
    )
    .action(async (repo: string, options) => {
      const { runModelsDownload } = await import('./commands/models-manage.js');
      result.code = await runModelsDownload(repo, options, stdout, stderr as NodeJS.WriteStream);
    });
  models
    .command('list')
    .description('List the models in the models folder (and unfinished downloads).')
    .option('--models-dir <dir>', MODELS_DIR_HELP)
    .option('--json', 'print JSON')
    .action(async (options) => {
      const { runModelsList } = await import('./commands/models-manage.js');
      result.code = await runModelsList(options, stdout);
    });
  models
    .command('import')
    .description('Add a model folder to the models folder (inspected first; copied, or linked with --link).')
    .argument('<dir>', 'model folder (diffusers/optimum ONNX layout)')
    .option('--name <name>', 'name in the models folder (default: the folder name)')
    .option('--link', 'link to the folder instead of copying it')
    .option('--models-dir <dir>', MODELS_DIR_HELP)
    .option('--json', 'print the imported model as JSON')
    .action(async (dir: string, options) => {
      const { runModelsImport } = await import('./commands/models-manage.js');
      result.code = await runModelsImport(dir, options, stdout);
    });
  models
    .command('remove')
    .description('Remove a model from the models folder (a linked model loses only its link).')
    .argument('<name>', 'model name (as in models list)')
    .option('--models-dir <dir>', MODELS_DIR_HELP)
    .action(async (name: string, options) => {
      const { runModelsRemove } = await import('./commands/models-manage.js');
      result.code = await runModelsRemove(name, options, stdout);
    });

  program
    .command('serve')
    .description('Run the studio in your browser on 127.0.0.1 (prints the URL with its access token).')
    .option('--port <n>', 'TCP port (default: a free one)', parseInteger({ min: 0, max: 65535 }))
    .option('--models <dir>', 'bundled models folder (default: resources/models)')
    .option('--settings <file>', 'settings JSON (default: per-user config folder)')
    .option('--renderer <dir>', 'built studio UI (default: out/renderer)')
    .option('-q, --quiet', 'print only the URL')
    .action(async (o: { port?: number; models?: string; settings?: string; renderer?: string; quiet?: boolean }) => {
      const { runServe } = await import('../web/serve.js');
      result.code = await runServe(
        {
          ...(o.port !== undefined ? { port: o.port } : {}),
          ...(o.models !== undefined ? { modelsDir: o.models } : {}),
          ...(o.settings !== undefined ? { settingsFile: o.settings } : {}),
          ...(o.renderer !== undefined ? { rendererDir: o.renderer } : {}),
          ...(o.quiet !== undefined ? { quiet: o.quiet } : {}),
        },
        stdout,
        stderr,
      );
    });

  program
    .command('backends')
    .description('Probe which execution providers really run on this machine (and refresh the choice of --backend auto).')
    .option('--json', 'print JSON')
    .action(async (options) => {
      const { runBackends } = await import('./commands/backends.js');
      result.code = await runBackends(options, stdout);
    });

  return { program, result };
}

/** Runs the CLI and returns the exit code; never throws. */
export async function run(argv: readonly string[], io: RunIO = {}): Promise<number> {
  const stderr = io.stderr ?? process.stderr;
  const { program, result } = createProgram(io);
  try {
    if (argv.length <= 2) {
      program.outputHelp({ error: true });
      return ExitCode.usage;
    }
    await program.parseAsync(argv as string[]);
    return result.code;
  } catch (error) {
    if (error instanceof CommanderError) {
      // Help and version exit 0; commander has already printed its one-line error otherwise.
      if (error.code === 'commander.helpDisplayed' || error.code === 'commander.version') return ExitCode.ok;
      return error.exitCode === 0 ? ExitCode.ok : ExitCode.usage;
    }
    if (error instanceof CliError) {
      stderr.write(`error: ${error.message}\n`);
      return error.exitCode;
    }
    stderr.write(`error: ${describeError(error)}\n`);
    if (process.env.LATENT_STUDIO_DEBUG && error instanceof Error && error.stack) stderr.write(`${error.stack}\n`);
    return ExitCode.failure;
  }
}
