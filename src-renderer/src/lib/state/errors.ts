// Host and engine errors → what the UI shows: a title, the engine's sentence, and the details.
import type { StudioError } from '@shared/contract.js';

export interface Failure {
  code: string;
  title: string;
  message: string;
  details: string[];
}

const TITLES: Record<string, string> = {
  'invalid-payload': 'Some settings are not valid',
  'invalid-request': 'Some settings are not valid',
  'model-not-found': 'Model not found',
  'bad-model': 'The model could not be loaded',
  unsupported: 'Not supported by this model',
  'bad-image': 'The image could not be read',
  'bad-mask': 'The mask could not be read',
  'out-of-memory': 'Out of memory',
  'non-finite': 'The model produced invalid numbers',
  'engine-unavailable': 'The engine stopped',
  disconnected: 'Lost the connection to the studio',
  cancelled: 'Cancelled',
};

export function describeFailure(e: StudioError | Error | unknown): Failure {
  if (e && typeof e === 'object' && 'code' in e && 'message' in e) {
    const se = e as StudioError;
    const code = String(se.code);
    let title = TITLES[code] ?? 'Something went wrong';
    if (/out of memory|bad_alloc|failed to allocate/i.test(se.message)) title = TITLES['out-of-memory']!;
    const details = [...(se.details ?? [])];
    // Messages often end in the details joined with '; ': show them once, as the list.
    let message = se.message;
    const at = details.length ? message.indexOf(details[0]!) : -1;
    if (at > 0) message = `${message.slice(0, at).replace(/[\s:;,.-]+$/, '')}:`;
    if (se.file && !message.includes(se.file)) details.push(`File: ${se.file}`);
    return { code, title, message, details };
  }
  const message = e instanceof Error ? e.message : String(e);
  return { code: 'internal', title: 'Something went wrong', message, details: [] };
}
