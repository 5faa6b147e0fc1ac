import { CliError } from './errors.js';
import { httpsCall, type TlsTrust } from './http.js';

export interface TokenSet {
  accessToken: string;
  refreshToken?: string;
}

export type Grant =
  | { kind: 'password'; username: string; password: string; clientId: string }
  | { kind: 'client_credentials'; clientId: string; clientSecret: string }
  | { kind: 'refresh_token'; refreshToken: string; clientId: string; clientSecret?: string };

/** One call to UAA's `/oauth/token` (PKS-REFERENCE §2–3: `pks_cli` has an empty secret). */
export async function grantToken(uaa: string, grant: Grant, trust: TlsTrust): Promise<TokenSet> {
  const form = new URLSearchParams({ grant_type: grant.kind });
  let secret = '';
  if (grant.kind === 'password') {
    form.set('username', grant.username);
    form.set('password', grant.password);
  } else if (grant.kind === 'client_credentials') {
    secret = grant.clientSecret;
  } else {
    form.set('refresh_token', grant.refreshToken);
    secret = grant.clientSecret ?? '';
  }
  const res = await httpsCall(
    new URL('/oauth/token', uaa),
    {
      method: 'POST',
      headers: {
        'Content-Type': 'application/x-www-form-urlencoded',
        Accept: 'application/json',
        Authorization: `Basic ${Buffer.from(`${grant.clientId}:${secret}`).toString('base64')}`,
      },
      body: form.toString(),
    },
    trust,
  );
  if (res.status !== 200) {
    if (grant.kind === 'refresh_token') throw new CliError('refresh refused');
    throw new CliError('Credentials were rejected, please try again.');
  }
  const json = JSON.parse(res.body) as { access_token?: string; refresh_token?: string };
  if (!json.access_token) throw new CliError('UAA answered without an access token');
  return {
    accessToken: json.access_token,
    ...(json.refresh_token ? { refreshToken: json.refresh_token } : {}),
  };
}

/**
 * Where UAA lives for an API: `--uaa-url`/`PKS_UAA_URL` when given, else what the API's `/info` names, else
 * PKS's convention of UAA on the API's host at :8443 (PKS-REFERENCE §0), for APIs without `/info`.
 */
export async function discoverUaaUrl(
  api: string,
  override: string | undefined,
  trust: TlsTrust,
): Promise<string> {
  if (override) return override.replace(/\/+$/, '');
  const info = await httpsCall(
    new URL('/info', api),
    { method: 'GET', headers: { Accept: 'application/json' } },
    trust,
  );
  if (info.status === 200) {
    try {
      const url = (JSON.parse(info.body) as { uaa?: { url?: unknown } }).uaa?.url;
      if (typeof url === 'string' && url.startsWith('https://')) return url.replace(/\/+$/, '');
    } catch {
      // Not openpks's /info: fall through to the convention.
    }
  }
  return `https://${new URL(api).hostname}:8443`;
}
