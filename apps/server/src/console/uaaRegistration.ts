import { ClientCredentialsTokenSource, HttpStatusError, HttpsJsonClient } from '@openpks/auth';
import { PksError } from '@openpks/domain';

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

/** A refusal of `call` as a ConsoleRegistrationError saying `what`, with the UAA's own words. */
function refusedAs(what: string) {
  return (error: unknown): never => {
    if (!(error instanceof HttpStatusError)) throw error;
    throw new ConsoleRegistrationError(error.status, `${what}: ${error.description}`);
  };
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
  const tokens = new ClientCredentialsTokenSource({
    tokenUrl: `${target.uaaUrl}/oauth/token`,
    clientId: 'admin',
    clientSecret: target.adminClientSecret,
    ca: target.caPem,
  });
  const uaa = new HttpsJsonClient({
    url: target.uaaUrl,
    peer: 'the UAA',
    ca: target.caPem,
    auth: {
      bearer: {
        token: () =>
          tokens.token().catch((error: unknown) => {
            const details = error instanceof PksError ? error.details : {};
            if (typeof details.status !== 'number') throw error;
            const said = details.description ?? details.error ?? details.status;
            throw new ConsoleRegistrationError(
              details.status,
              `the UAA refused the admin client: ${String(said)}`,
            );
          }),
        invalidate: () => tokens.invalidate(),
      },
    },
    // One registration at start: no connection to keep.
    keepAlive: false,
  });
  const client = await uaa
    .json<Record<string, unknown>>('GET', '/oauth/clients/pks_console')
    .catch(refusedAs('the UAA has no pks_console client'));

  const uris = Array.isArray(client.redirect_uri) ? (client.redirect_uri as string[]) : [];
  if (uris.includes(redirect)) return 'present';
  // The client resource shows empty lists as UAA's placeholders; they are not values to write back.
  const list = (value: unknown, placeholder: string) =>
    Array.isArray(value) ? (value as string[]).filter((v) => v !== placeholder) : [];
  await uaa
    .json('PUT', '/oauth/clients/pks_console', {
      json: {
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
      },
    })
    .catch(refusedAs(`the UAA did not take the console's redirect URI ${redirect}`));
  return 'registered';
}
