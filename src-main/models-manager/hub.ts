// A small Hugging Face hub client: the repository tree (paginated) and file downloads, through undici so that
// HTTPS_PROXY / HTTP_PROXY / NO_PROXY are honoured (Node's global fetch ignores them).
import { EnvHttpProxyAgent, fetch, type Dispatcher, type Response } from 'undici';
import { ModelManagerError } from './errors.js';

export const DEFAULT_ENDPOINT = 'https://huggingface.co';

/** One entry of `GET /api/models/{repo}/tree/{revision}?recursive=true`. */
export interface TreeEntry {
  type: 'file' | 'directory';
  path: string;
  size: number;
  oid: string;
  /** LFS files: sha256 of the content and its size. */
  lfs?: { oid: string; size: number; pointerSize?: number };
}

export interface HubOptions {
  /** Default: env HF_ENDPOINT, else https://huggingface.co. */
  endpoint?: string;
  /** Default: env HF_TOKEN (or HUGGING_FACE_HUB_TOKEN). Sent as `Authorization: Bearer`. */
  token?: string;
  /** Where proxies, HF_ENDPOINT and HF_TOKEN are read (default process.env). */
  env?: NodeJS.ProcessEnv;
  /** A dispatcher to use instead of the proxy-aware one built from env. */
  dispatcher?: Dispatcher;
  /** Give up on a request whose headers do not arrive in this time (default 60 s). */
  headersTimeoutMs?: number;
  /** Give up on a body that stalls for this long (default 60 s). */
  bodyTimeoutMs?: number;
  userAgent?: string;
}

const REPO_ID = /^[A-Za-z0-9][A-Za-z0-9._-]*(\/[A-Za-z0-9][A-Za-z0-9._-]*)?$/;

export function validateRepoId(repo: string): void {
  if (!REPO_ID.test(repo) || repo.includes('..')) {
    throw new ModelManagerError('invalid', `"${repo}" is not a repository id (expected "owner/name", e.g. "onnxruntime/sd-turbo").`);
  }
}

/** Encodes each path segment (keeps the slashes). */
export function encodePath(p: string): string {
  return p
    .split('/')
    .filter((s) => s !== '')
    .map(encodeURIComponent)
    .join('/');
}

function envValue(env: NodeJS.ProcessEnv, ...names: string[]): string | undefined {
  for (const n of names) {
    const v = env[n] ?? env[n.toLowerCase()];
    if (v !== undefined && v !== '') return v;
  }
  return undefined;
}

/** The `rel="next"` URL of a Link header, if any. */
export function nextLink(link: string | null): string | null {
  if (!link) return null;
  for (const part of link.split(',')) {
    const m = /<([^>]+)>\s*;(.*)/.exec(part.trim());
    if (m && /rel\s*=\s*"?next"?/i.test(m[2]!)) return m[1]!;
  }
  return null;
}

/** Tree listing limits: far above any model repository (the hub pages 1000 entries, ~300 KB), far below harm. */
export const MAX_TREE_PAGES = 200;
export const MAX_TREE_PAGE_BYTES = 16 * 1024 * 1024;
export const MAX_TREE_BYTES = 64 * 1024 * 1024;

/** The body of a response, as text, refused (and the transfer stopped) past `max` bytes. */
async function readCapped(res: Response, max: number, what: string): Promise<string> {
  const declared = Number(res.headers.get('content-length') ?? NaN);
  if (declared > max) {
    await res.body?.cancel().catch(() => undefined);
    throw new ModelManagerError('http', `${what} is ${declared} bytes, more than the ${max} bytes allowed; refused.`);
  }
  const parts: Uint8Array[] = [];
  let total = 0;
  if (res.body) {
    for await (const chunk of res.body) {
      total += (chunk as Uint8Array).byteLength;
      if (total > max) {
        await res.body.cancel().catch(() => undefined);
        throw new ModelManagerError('http', `${what} is larger than the ${max} bytes allowed; refused.`);
      }
      parts.push(chunk as Uint8Array);
    }
  }
  return Buffer.concat(parts).toString('utf8');
}

export class HubClient {
  readonly endpoint: string;
  readonly token: string | undefined;
  readonly dispatcher: Dispatcher;
  private readonly ownsDispatcher: boolean;
  private readonly userAgent: string;

  constructor(options: HubOptions = {}) {
    const env = options.env ?? process.env;
    this.endpoint = (options.endpoint ?? envValue(env, 'HF_ENDPOINT') ?? DEFAULT_ENDPOINT).replace(/\/+$/, '');
    this.token = options.token ?? envValue(env, 'HF_TOKEN', 'HUGGING_FACE_HUB_TOKEN');
    this.userAgent = options.userAgent ?? 'latent-studio';
    if (options.dispatcher) {
      this.dispatcher = options.dispatcher;
      this.ownsDispatcher = false;
    } else {
      const httpProxy = envValue(env, 'HTTP_PROXY');
      const httpsProxy = envValue(env, 'HTTPS_PROXY') ?? httpProxy;
      const noProxy = envValue(env, 'NO_PROXY');
      this.dispatcher = new EnvHttpProxyAgent({
        // Explicit values: `env` may not be process.env. An empty string means "no proxy" to undici.
        httpProxy: httpProxy ?? '',
        httpsProxy: httpsProxy ?? '',
        noProxy: noProxy ?? '',
        // Plain-HTTP targets go to the proxy in absolute form (what every HTTP proxy understands);
        // https targets always tunnel with CONNECT.
        proxyTunnel: false,
        headersTimeout: options.headersTimeoutMs ?? 60_000,
        bodyTimeout: options.bodyTimeoutMs ?? 60_000,
      });
      this.ownsDispatcher = true;
    }
  }

  async close(): Promise<void> {
    if (this.ownsDispatcher) await this.dispatcher.close().catch(() => undefined);
  }

  /** Request headers; the token only for the hub's own origin (redirects elsewhere drop it too: undici). */
  headers(extra: Record<string, string> = {}, url: string = this.endpoint): Record<string, string> {
    return {
      'user-agent': this.userAgent,
      ...(this.token && this.isHubOrigin(url) ? { authorization: `Bearer ${this.token}` } : {}),
      ...extra,
    };
  }

  isHubOrigin(url: string): boolean {
    try {
      return new URL(url).origin === new URL(this.endpoint).origin;
    } catch {
      return false;
    }
  }

  treeUrl(repo: string, revision: string, subfolder?: string): string {
    const sub = subfolder ? `/${encodePath(subfolder)}` : '';
    return `${this.endpoint}/api/models/${repo}/tree/${encodeURIComponent(revision)}${sub}?recursive=true`;
  }

  fileUrl(repo: string, revision: string, file: string): string {
    return `${this.endpoint}/${repo}/resolve/${encodeURIComponent(revision)}/${encodePath(file)}`;
  }

  async get(url: string, init: { headers?: Record<string, string>; signal?: AbortSignal } = {}): Promise<Response> {
    return fetch(url, {
      headers: this.headers(init.headers, url),
      redirect: 'follow',
      dispatcher: this.dispatcher,
      ...(init.signal ? { signal: init.signal } : {}),
    });
  }

  /**
   * Every file of the repository (under `subfolder` when given), following `Link: <…>; rel="next"` pages on the
   * hub's own origin only, at most MAX_TREE_PAGES of them and MAX_TREE_BYTES in all.
   * Paths are as the hub gives them (relative to the repository root).
   */
  async listFiles(repo: string, revision: string, options: { subfolder?: string; signal?: AbortSignal } = {}): Promise<TreeEntry[]> {
    validateRepoId(repo);
    const out: TreeEntry[] = [];
    let url: string | null = this.treeUrl(repo, revision, options.subfolder);
    const seen = new Set<string>();
    let treeBytes = 0;
    while (url) {
      if (seen.has(url)) break; // a server that links a page to itself
      seen.add(url);
      if (seen.size > MAX_TREE_PAGES) throw new ModelManagerError('http', `Listing ${repo}: ${this.endpoint} sent more than ${MAX_TREE_PAGES} pages; refused.`);
      const page = await this.treePage(repo, revision, url, options.subfolder, options.signal, MAX_TREE_BYTES - treeBytes);
      treeBytes += page.bytes;
      for (const e of page.entries) out.push(e);
      url = page.next;
    }
    return out;
  }

  /** One page of the tree: its entries, its size and the next page (only ever on the hub's own origin). */
  private async treePage(repo: string, revision: string, url: string, subfolder: string | undefined, signal: AbortSignal | undefined, bytesLeft: number): Promise<{ entries: TreeEntry[]; bytes: number; next: string | null }> {
    const res = await this.get(url, signal ? { signal } : {});
    if (res.status === 404) {
      await res.body?.cancel().catch(() => undefined);
      const what = subfolder ? `${repo} (revision ${revision}, folder ${subfolder})` : `${repo} (revision ${revision})`;
      throw new ModelManagerError(
        'repo-not-found',
        `Repository ${what} was not found on ${this.endpoint}. Check the id and revision${this.token ? '' : '; a private or gated repository needs a token (HF_TOKEN or --token)'}.`,
      );
    }
    if (res.status === 401 || res.status === 403) {
      await res.body?.cancel().catch(() => undefined);
      throw new ModelManagerError('unauthorized', `${this.endpoint} refused access to ${repo} (HTTP ${res.status}): ${this.token ? 'the token has no access to it (gated? accept its terms on the hub)' : 'it needs a token (HF_TOKEN or --token)'}.`);
    }
    if (!res.ok) {
      await res.body?.cancel().catch(() => undefined);
      throw new ModelManagerError('http', `Listing ${repo} failed: HTTP ${res.status} ${res.statusText} from ${url}.`);
    }
    const body = await readCapped(res, Math.min(MAX_TREE_PAGE_BYTES, bytesLeft), `Listing ${repo}: the page ${url}`);
    let page: unknown;
    try {
      page = JSON.parse(body);
    } catch {
      throw new ModelManagerError('http', `Listing ${repo}: ${url} did not return JSON.`);
    }
    if (!Array.isArray(page)) throw new ModelManagerError('http', `Listing ${repo}: ${url} did not return a JSON array.`);
    const out: TreeEntry[] = [];
    for (const e of page as Array<Record<string, unknown>>) {
      if (typeof e !== 'object' || e === null) continue;
      if ((e.type !== 'file' && e.type !== 'directory') || typeof e.path !== 'string') continue;
      const entry: TreeEntry = { type: e.type, path: e.path, size: typeof e.size === 'number' ? e.size : 0, oid: typeof e.oid === 'string' ? e.oid : '' };
      const lfs = e.lfs as { oid?: unknown; size?: unknown } | undefined;
      // An LFS entry without a usable sha256 keeps an empty one: selectFiles refuses it as unverifiable.
      if (lfs && typeof lfs === 'object') entry.lfs = { oid: typeof lfs.oid === 'string' ? lfs.oid : '', size: typeof lfs.size === 'number' ? lfs.size : entry.size };
      out.push(entry);
    }
    const link = nextLink(res.headers.get('link'));
    const next = link ? new URL(link, url).toString() : null;
    if (next && !this.isHubOrigin(next)) {
      throw new ModelManagerError('http', `Listing ${repo}: ${this.endpoint} sent a next page on another site (${new URL(next).origin}); refused.`);
    }
    return { entries: out, bytes: Buffer.byteLength(body), next };
  }
}
