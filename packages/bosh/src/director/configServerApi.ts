import { createHash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { bearerToken, hasAnyScope, type TokenVerifier } from '@openpks/auth';
import type { Logger } from '@openpks/role';
import { VariableType } from '../manifest/manifest.js';
import { sendJson } from './http.js';
import type { VariableStore } from './store/variableStore.js';

/** Where the embedded Director serves its config server's read API (advertised in `/info`). */
export const CONFIG_SERVER_PATH = '/api/';

/** CredHub's answer for a name that does not exist or may not be read (it does not tell them apart). */
const NOT_FOUND =
  'The request could not be completed because the credential does not exist or you do not have sufficient authorization.';

export interface ConfigServerApiOptions {
  variables: VariableStore;
  directorName: string;
  verifier: TokenVerifier;
  /** The Director's uuid (for `bosh.<uuid>.admin`). */
  uuid: () => string;
  logger: Logger;
}

/**
 * The embedded Director's config server, read side, in CredHub's shape (`GET /api/v1/data?name=…`):
 * variables are named `/<director>/<deployment>/<variable>`. Only certificate variables are served, and
 * only their `ca` and `certificate`: private keys, passwords and keys never leave the Director (the
 * interpolated manifest is the only way they reach a VM). A UAA token with `credhub.read` or
 * `credhub.write` (CredHub's scopes) or `bosh.admin`/`bosh.<uuid>.admin` is required; `bosh.read` is not
 * enough, as it is not for real CredHub.
 */
export function createConfigServerApi(
  options: ConfigServerApiOptions,
): (req: IncomingMessage, res: ServerResponse, url: URL) => Promise<void> {
  const error = (res: ServerResponse, status: number, body: Record<string, string>) =>
    sendJson(res, status, body, status === 401 ? { 'WWW-Authenticate': 'Bearer realm="credhub"' } : {});

  return async (req, res, url) => {
    try {
      const token = bearerToken(req.headers.authorization);
      if (token === undefined) {
        error(res, 401, {
          error: 'invalid_token',
          error_description: 'Full authentication is required to access this resource',
        });
        return;
      }
      let scopes: string[];
      try {
        scopes = (await options.verifier.verify(token)).scopes;
      } catch (cause) {
        error(res, 401, { error: 'invalid_token', error_description: (cause as Error).message });
        return;
      }
      const allowed = ['credhub.read', 'credhub.write', 'bosh.admin', `bosh.${options.uuid()}.admin`];
      if (!hasAnyScope({ scopes }, allowed)) {
        error(res, 403, {
          error: 'insufficient_scope',
          error_description: `requires one of the scopes ${allowed.join(', ')}`,
        });
        return;
      }
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        error(res, 405, { error: 'The config server of the embedded Director is read-only.' });
        return;
      }
      if (url.pathname.replace(/\/$/, '') !== `${CONFIG_SERVER_PATH}v1/data`) {
        error(res, 404, {
          error: 'The request could not be fulfilled because the resource could not be found.',
        });
        return;
      }
      const name = url.searchParams.get('name');
      if (name === null || name === '') {
        error(res, 400, {
          error: 'The query parameter name is required for this request.',
        });
        return;
      }
      const [director, deployment, variable, ...rest] = name.replace(/^\//, '').split('/');
      const found =
        director === options.directorName && deployment && variable && rest.length === 0
          ? await options.variables.find(deployment, variable)
          : undefined;
      if (found === undefined || found.type !== VariableType.CERTIFICATE || typeof found.value !== 'object') {
        error(res, 404, { error: NOT_FOUND });
        return;
      }
      const fullName = `/${director}/${deployment}/${variable}`;
      const created = found.createdAt.toISOString();
      sendJson(res, 200, {
        data: [
          {
            type: 'certificate',
            version_created_at: created,
            id: versionId(fullName, created),
            name: fullName,
            metadata: null,
            value: { ca: found.value.ca ?? '', certificate: found.value.certificate ?? '' },
          },
        ],
      });
    } catch (cause) {
      options.logger.error({ err: cause, url: req.url }, 'config server request failed');
      if (!res.headersSent) error(res, 500, { error: 'internal error' });
      else res.destroy();
    }
  };
}

/** A stable UUID-shaped id per credential version (CredHub's version ids are UUIDs). */
function versionId(name: string, created: string): string {
  const hex = createHash('sha256').update(`${name}@${created}`).digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-a${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}
