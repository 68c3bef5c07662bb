/**
 * The one definition of "only this machine may talk to me" that every HTTP server ratri runs uses
 * (`ratri serve` without a key, the dashboard, the HTTP front): which names are loopback, which
 * `Host` headers name this server (DNS rebinding), and which browser requests come from another
 * site (`Origin`, `Sec-Fetch-Site`). A page on any web site can make the user's browser send
 * requests to 127.0.0.1; these checks are what stop it. See docs/http.md and docs/api.md.
 */
import type { IncomingMessage } from 'node:http';

/** True for host names and addresses that only this machine can reach. */
export function isLoopback(host: string): boolean {
  const name = host.toLowerCase();
  return name === 'localhost' || name === '::1' || name === '[::1]' || /^127(\.\d{1,3}){3}$/.test(name);
}

/** `name` and `port` of a `Host` header (`127.0.0.1:3100`, `[::1]:80`, `localhost`); undefined when it is not one. */
function splitHost(header: string): { name: string; port?: number } | undefined {
  const match = /^(\[[^\]]+\]|[^:[\]]+)(?::(\d{1,5}))?$/.exec(header);
  if (!match) return undefined;
  return { name: match[1]!.toLowerCase(), port: match[2] === undefined ? undefined : Number(match[2]) };
}

/**
 * Why a `Host` header does not name this loopback server (undefined when it does): it must be a
 * loopback name or address with our port (no port only when the port is 80, as browsers send it).
 * A DNS-rebinding page sends its own name (`evil.example:3100`), which fails here.
 */
export function foreignHost(header: string | undefined, port: number): string | undefined {
  const host = header === undefined ? undefined : splitHost(header);
  if (host && isLoopback(host.name) && (host.port ?? 80) === port) return undefined;
  return `the Host header "${header ?? ''}" does not name this server (only localhost, 127.0.0.1 or [::1] with port ${port} do)`;
}

/** True for `http(s)://` origins on this machine, any port. */
export function isLoopbackOrigin(origin: string): boolean {
  const match = /^https?:\/\/(\[[^\]]+\]|[^:/[\]]+)(?::\d{1,5})?$/i.exec(origin);
  return match !== null && isLoopback(match[1]!);
}

export interface SitePolicy {
  /**
   * `loopback`: a present Origin must be a loopback origin (any port) or one of `allowedOrigins`.
   * `same-origin`: it must be exactly this server (`http://` + the Host header), and a present
   * `Sec-Fetch-Site` must be `same-origin` or `none`.
   */
  origins: 'loopback' | 'same-origin';
  /** Extra origins (`https://app.example.com`) allowed with `loopback`. */
  allowedOrigins?: string[];
}

const normalOrigin = (origin: string): string => origin.toLowerCase().replace(/\/+$/, '');
const header = (req: IncomingMessage, name: string): string | undefined => {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
};

/**
 * Why a request looks sent by a page of another site (undefined when it does not). Requests
 * without `Origin` and without `Sec-Fetch-Site` are not from a browser and pass. A browser sends no
 * `Origin` on a plain GET (an `<img>` or `<script>` tag) but does send `Sec-Fetch-Site: cross-site`.
 */
export function crossSiteProblem(req: IncomingMessage, policy: SitePolicy): string | undefined {
  const origin = header(req, 'origin');
  const site = header(req, 'sec-fetch-site')?.toLowerCase();
  if (policy.origins === 'same-origin') {
    if (origin !== undefined && normalOrigin(origin) !== `http://${(header(req, 'host') ?? '').toLowerCase()}`)
      return `requests from ${origin} are refused`;
    if (site !== undefined && site !== 'same-origin' && site !== 'none') return `cross-site requests are refused (Sec-Fetch-Site: ${site})`;
    return undefined;
  }
  if (origin !== undefined) {
    if (isLoopbackOrigin(origin)) return undefined;
    if ((policy.allowedOrigins ?? []).some((o) => normalOrigin(o) === normalOrigin(origin))) return undefined;
    return `Origin "${origin}" is not allowed`;
  }
  if (site === 'cross-site' || site === 'same-site') return `a request another site's page made (Sec-Fetch-Site: ${site}) is refused`;
  return undefined;
}

/** True when a POST says its body is JSON (`application/json`, optionally with parameters such as charset). */
export function isJsonContentType(req: IncomingMessage): boolean {
  return /^application\/json\s*(;|$)/i.test(header(req, 'content-type') ?? '');
}
