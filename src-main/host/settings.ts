// Settings in one JSON file. A missing file means defaults; a corrupt one (bad JSON, wrong types) means
// defaults for what is wrong plus a warning (the broken file is kept as <file>.corrupt-<time> when unreadable).
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { DEFAULT_SETTINGS, settingsShape, type Settings } from '../shared/contract.js';

export interface LoadedSettings {
  settings: Settings;
  /** Problems found while reading (empty when the file was fine or absent). */
  warnings: string[];
}

function cloneDefaults(): Settings {
  return { ...DEFAULT_SETTINGS, modelDirs: [...DEFAULT_SETTINGS.modelDirs] };
}

/** Validates field by field: an invalid field falls back to its default (and is reported); unknown fields are dropped. */
export function sanitizeSettings(raw: unknown, file = 'settings'): LoadedSettings {
  const settings = cloneDefaults();
  const warnings: string[] = [];
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    warnings.push(`${file} does not hold a JSON object; using the default settings.`);
    return { settings, warnings };
  }
  const obj = raw as Record<string, unknown>;
  for (const key of Object.keys(settingsShape) as Array<keyof Settings>) {
    if (!(key in obj)) continue;
    const r = settingsShape[key].safeParse(obj[key]);
    if (r.success) (settings as unknown as Record<string, unknown>)[key] = r.data;
    else warnings.push(`${file}: "${key}" is invalid (${r.error.issues[0]?.message ?? 'bad value'}); using the default.`);
  }
  return { settings, warnings };
}

export class SettingsStore {
  private current: Settings = cloneDefaults();
  private writing: Promise<void> = Promise.resolve();

  constructor(readonly file: string) {}

  get value(): Settings {
    return { ...this.current, modelDirs: [...this.current.modelDirs] };
  }

  async load(): Promise<LoadedSettings> {
    let text: string;
    try {
      text = await readFile(this.file, 'utf8');
    } catch (error) {
      this.current = cloneDefaults();
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { settings: this.value, warnings: [] };
      return { settings: this.value, warnings: [`Cannot read the settings file ${this.file} (${(error as Error).message}); using the default settings.`] };
    }
    let raw: unknown;
    try {
      raw = JSON.parse(text);
    } catch (error) {
      this.current = cloneDefaults();
      const backup = `${this.file}.corrupt-${Date.now()}`;
      await rename(this.file, backup).catch(() => undefined);
      return {
        settings: this.value,
        warnings: [`The settings file ${this.file} is corrupt (${(error as Error).message}); using the default settings. The broken file was kept as ${backup}.`],
      };
    }
    const loaded = sanitizeSettings(raw, this.file);
    this.current = loaded.settings;
    return { settings: this.value, warnings: loaded.warnings };
  }

  /** Merges an already validated patch and writes the file (atomically: temp file + rename). */
  async update(patch: Partial<Settings>): Promise<Settings> {
    const next: Settings = { ...this.current, ...patch };
    this.current = next;
    const text = `${JSON.stringify(next, null, 2)}\n`;
    const write = this.writing.then(async () => {
      await mkdir(path.dirname(this.file), { recursive: true });
      const tmp = `${this.file}.${process.pid}.tmp`;
      await writeFile(tmp, text, 'utf8');
      await rename(tmp, this.file);
    });
    this.writing = write.catch(() => undefined);
    await write;
    return this.value;
  }
}
