import { httpsCall, httpsUrl } from './https.js';

/**
 * The issuer UAA puts in its tokens, read from its OIDC discovery document. Every component that
 * verifies UAA tokens needs the exact `iss`, and UAA's own view of it beats rebuilding it from a URL
 * (external host, path prefixes). When UAA cannot be asked (not up yet, elsewhere), UAA's convention
 * `<url>/oauth/token` is used.
 */
export async function discoverUaaIssuer(
  uaaUrl: string,
  options: { ca?: string | string[] } = {},
): Promise<string> {
  const base = uaaUrl.replace(/\/+$/, '');
  const fallback = `${base}/oauth/token`;
  const url = httpsUrl(`${base}/.well-known/openid-configuration`);
  if (url === undefined) return fallback;
  try {
    const { status, body } = await httpsCall(url, {
      headers: { Accept: 'application/json' },
      ca: options.ca,
    });
    const issuer = (JSON.parse(body) as { issuer?: unknown }).issuer;
    return status === 200 && typeof issuer === 'string' ? issuer : fallback;
  } catch {
    return fallback;
  }
}
