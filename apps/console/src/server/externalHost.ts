import type { IncomingHttpHeaders, ServerResponse } from 'node:http';

/**
 * What the console does with a request, by the host name it was sent to. Sign-in works only on the
 * configured external URL: next-auth's state and PKCE cookies are set on the origin the browser is on,
 * while UAA sends the browser back to exactly the registered callback on the external URL. A browser on
 * another name of the same server (http://127.0.0.1:3000, the machine's other names) would start a
 * sign-in that cannot finish, so it is sent to the external URL first. This also keeps the console's
 * pages off names it does not own (DNS rebinding).
 */
export type HostDecision =
  | { action: 'serve' }
  | { action: 'redirect'; location: string }
  | { action: 'refuse'; externalOrigin: string; api: boolean };

export interface HostRequest {
  method?: string | undefined;
  url?: string | undefined;
  headers: Pick<IncomingHttpHeaders, 'host'>;
}

/** Load balancers and pks-server probe by address; the answer does not depend on the name. */
const HEALTH_PATH = '/healthz';
/**
 * Only these are redirected: a redirected POST is re-sent with its body to another origin (307) or
 * turned into a GET (302/303); neither is what its sender meant.
 */
const SAFE_METHODS = new Set(['GET', 'HEAD']);
/** A DNS name or IPv4 address, or a bracketed IPv6 literal, with an optional port; nothing else. */
const HOST_SYNTAX = /^(?:[a-z0-9_.-]+|\[[0-9a-f:.]+\])(?::\d{1,5})?$/i;
const ABSOLUTE_FORM = /^https?:\/\/([^/?#]*)(.*)$/is;

/**
 * Decides by the request's own host name (Host, or the authority of an absolute-form request target,
 * which HTTP says wins over Host). X-Forwarded-Host and -Proto are not read: anyone can send them, and
 * the console has no setting naming a proxy it trusts, so a proxy in front must pass the browser's Host.
 * The console itself speaks plain HTTP only, so the scheme is not compared: behind a TLS proxy the
 * external URL is https:// while requests arrive over http.
 */
export function externalHostCheck(externalUrl: string): (request: HostRequest) => HostDecision {
  const external = new URL(externalUrl);
  const { origin, protocol } = external;
  const expectedHost = external.host;

  const isExternalHost = (authority: string | undefined): boolean => {
    if (authority === undefined || !HOST_SYNTAX.test(authority)) return false;
    // Parsed with the external URL's scheme, so its default port may be written or left out, names
    // compare case-insensitively and IPv6 literals in their canonical form.
    const url = `${protocol}//${authority}`;
    return URL.canParse(url) && new URL(url).host === expectedHost;
  };

  return (request) => {
    const target = request.url ?? '/';
    const absolute = ABSOLUTE_FORM.exec(target);
    const authority = absolute ? absolute[1] : request.headers.host;
    const pathAndQuery = absolute ? absolute[2]! : target;
    const path = pathAndQuery.split('?', 1)[0]!;
    if (path === HEALTH_PATH || isExternalHost(authority)) return { action: 'serve' };
    if (!SAFE_METHODS.has(request.method ?? '')) {
      return { action: 'refuse', externalOrigin: origin, api: path.startsWith('/api/') };
    }
    return { action: 'redirect', location: onOrigin(origin, pathAndQuery) };
  };
}

/**
 * The request's path and query on the external origin, and never on another: a path that begins with
 * two slashes (or a backslash, which browsers read as a slash, or either with tabs or newlines between,
 * which URL parsers drop) would read as `//other-host` wherever it is taken as a relative reference.
 */
function onOrigin(origin: string, pathAndQuery: string): string {
  const cleaned = pathAndQuery.replace(/[\t\n\r]/g, '');
  const queryAt = cleaned.indexOf('?');
  const rawPath = queryAt === -1 ? cleaned : cleaned.slice(0, queryAt);
  const query = queryAt === -1 ? '' : cleaned.slice(queryAt);
  // Asterisk-form ("*") or an empty path: the console's root.
  const path = rawPath.startsWith('/') || rawPath.startsWith('\\') ? rawPath.replace(/^[/\\]+/, '/') : '/';
  return new URL(`${origin}${path}${query}`).href;
}

/**
 * Writes a redirect or refusal. 307, not 308: a permanent redirect is cached by browsers, and the
 * external URL is configuration (port 0 picks another port on every start).
 */
export function answerOtherHost(
  res: ServerResponse,
  decision: Exclude<HostDecision, { action: 'serve' }>,
): void {
  if (decision.action === 'redirect') {
    res.writeHead(307, { Location: decision.location, 'Cache-Control': 'no-store' });
    res.end();
    return;
  }
  // 421 Misdirected Request: this server does not answer for that name; the body says which to use.
  const description = `the console answers at ${decision.externalOrigin}; send the request there (only GET and HEAD are redirected)`;
  if (decision.api) {
    res.writeHead(421, { 'Content-Type': 'application/json', 'Cache-Control': 'no-store' });
    res.end(JSON.stringify({ error: 'misdirected_request', error_description: description }));
  } else {
    res.writeHead(421, { 'Content-Type': 'text/plain; charset=utf-8', 'Cache-Control': 'no-store' });
    res.end(`${description}\n`);
  }
}
