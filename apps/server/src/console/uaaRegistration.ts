import { request } from 'node:https';

/** The console's OAuth callback path (next-auth's, for the provider id `uaa`). */
export const CONSOLE_CALLBACK_PATH = '/api/auth/callback/uaa';

/** A failed call to the UAA while registering the console's redirect URI. */
export class ConsoleRegistrationError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = 'ConsoleRegistrationError';
  }
}

interface UaaCall {
  uaaUrl: string;
  caPem: string;
}

function call(
  { uaaUrl, caPem }: UaaCall,
  method: string,
  path: string,
  headers: Record<string, string>,
  body?: string,
): Promise<{ status: number; json: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const req = request(`${uaaUrl}${path}`, { method, ca: caPem, headers, agent: false }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () => {
        let json: Record<string, unknown>;
        try {
          json = text ? (JSON.parse(text) as Record<string, unknown>) : {};
        } catch {
          json = { error_description: text.slice(0, 200) };
        }
        resolve({ status: res.statusCode ?? 0, json });
      });
    });
    req.on('error', reject);
    req.end(body);
  });
}

/**
 * Makes sure the UAA's `pks_console` client accepts the console's callback at its actual URL (port 0
 * picks the port at start, and an operator may move the console), through the UAA's own client API as
 * the `admin` client. Other registered URIs are kept; nothing changes when it is already there.
 */
export async function ensureConsoleRedirect(
  target: UaaCall & { adminClientSecret: string },
  consoleUrl: string,
): Promise<'registered' | 'present'> {
  const redirect = `${consoleUrl}${CONSOLE_CALLBACK_PATH}`;
  const basic = Buffer.from(`admin:${target.adminClientSecret}`).toString('base64');
  const token = await call(
    target,
    'POST',
    '/oauth/token',
    {
      Authorization: `Basic ${basic}`,
      'Content-Type': 'application/x-www-form-urlencoded',
      Accept: 'application/json',
    },
    new URLSearchParams({ grant_type: 'client_credentials' }).toString(),
  );
  if (token.status !== 200 || typeof token.json.access_token !== 'string')
    throw new ConsoleRegistrationError(
      token.status,
      `the UAA refused the admin client: ${String(token.json.error_description ?? token.json.error ?? token.status)}`,
    );
  const auth = { Authorization: `Bearer ${token.json.access_token}`, Accept: 'application/json' };
  const current = await call(target, 'GET', '/oauth/clients/pks_console', auth);
  if (current.status !== 200)
    throw new ConsoleRegistrationError(current.status, 'the UAA has no pks_console client');
  const client = current.json;
  const uris = Array.isArray(client.redirect_uri) ? (client.redirect_uri as string[]) : [];
  if (uris.includes(redirect)) return 'present';
  // The client resource shows empty lists as UAA's placeholders; they are not values to write back.
  const list = (value: unknown, placeholder: string) =>
    Array.isArray(value) ? (value as string[]).filter((v) => v !== placeholder) : [];
  const updated = await call(
    target,
    'PUT',
    '/oauth/clients/pks_console',
    { ...auth, 'Content-Type': 'application/json' },
    JSON.stringify({
      client_id: 'pks_console',
      name: client.name,
      scope: list(client.scope, 'uaa.none'),
      authorities: list(client.authorities, 'uaa.none'),
      resource_ids: list(client.resource_ids, 'none'),
      authorized_grant_types: client.authorized_grant_types,
      redirect_uri: [...uris, redirect],
      autoapprove: client.autoapprove,
      allowpublic: client.allowpublic,
      ...(client.access_token_validity !== undefined
        ? { access_token_validity: client.access_token_validity }
        : {}),
      ...(client.refresh_token_validity !== undefined
        ? { refresh_token_validity: client.refresh_token_validity }
        : {}),
    }),
  );
  if (updated.status !== 200)
    throw new ConsoleRegistrationError(
      updated.status,
      `the UAA did not take the console's redirect URI ${redirect}: ${String(updated.json.error_description ?? updated.status)}`,
    );
  return 'registered';
}
