/**
 * An error answered in UAA's shape: RFC 6749's `{"error","error_description"}` for OAuth endpoints, with
 * `message` added on SCIM endpoints as UAA does. Routes throw these; the router writes them.
 */
export class UaaError extends Error {
  constructor(
    readonly status: number,
    readonly error: string,
    readonly description: string,
    readonly options: { headers?: Record<string, string>; extra?: Record<string, unknown> } = {},
  ) {
    super(description);
    this.name = 'UaaError';
  }

  body(): Record<string, unknown> {
    return { error: this.error, error_description: this.description, ...this.options.extra };
  }
}

const CLIENT_REALM = 'Basic realm="UAA/client", error="unauthorized", error_description="Bad credentials"';

export const oauthErrors = {
  badClientCredentials: () =>
    new UaaError(401, 'invalid_client', 'Bad credentials', { headers: { 'WWW-Authenticate': CLIENT_REALM } }),
  badUserCredentials: () => new UaaError(401, 'unauthorized', 'Bad credentials'),
  accountLocked: () =>
    new UaaError(
      401,
      'unauthorized',
      'Your account has been locked because of too many failed attempts to login.',
    ),
  accountInactive: () => new UaaError(401, 'unauthorized', 'Your account has been deactivated.'),
  passwordChangeRequired: () => new UaaError(401, 'unauthorized', 'User password change is required'),
  unauthorizedGrant: (grant: string) =>
    new UaaError(401, 'invalid_client', `Unauthorized grant type: ${grant}`),
  unsupportedGrant: (grant: string) =>
    new UaaError(400, 'unsupported_grant_type', `Unsupported grant type: ${grant}`),
  invalidRequest: (description: string) => new UaaError(400, 'invalid_request', description),
  invalidGrant: (description: string) => new UaaError(400, 'invalid_grant', description),
  invalidScope: (scopes: readonly string[]) =>
    new UaaError(
      400,
      'invalid_scope',
      `Invalid scope: ${scopes.join(' ')}. Did you know that you can get default scopes by simply sending no value?`,
    ),
  invalidRefreshToken: (why: string) => new UaaError(401, 'invalid_token', `Invalid refresh token${why}`),
  invalidToken: (description: string, status = 401) =>
    new UaaError(status, 'invalid_token', description, {
      headers: { 'WWW-Authenticate': `Bearer error="invalid_token", error_description="${description}"` },
    }),
  unauthenticated: () =>
    new UaaError(401, 'unauthorized', 'Full authentication is required to access this resource', {
      headers: { 'WWW-Authenticate': 'Bearer realm="UAA/oauth", error="unauthorized"' },
    }),
  insufficientScope: (needed: readonly string[]) =>
    new UaaError(403, 'insufficient_scope', 'Insufficient scope for this resource', {
      extra: { scope: needed.join(' ') },
    }),
  accessDenied: (description = 'Access is denied') => new UaaError(403, 'access_denied', description),
} as const;

/** SCIM errors carry `message` beside `error_description` (UAA's ScimException report). */
export function scimError(
  status: number,
  error: string,
  message: string,
  extra: Record<string, unknown> = {},
): UaaError {
  return new UaaError(status, error, message, { extra: { message, ...extra } });
}

export const scimErrors = {
  notFound: (what: string) => scimError(404, 'scim_resource_not_found', what),
  alreadyExists: (message: string, extra: Record<string, unknown> = {}) =>
    scimError(409, 'scim_resource_already_exists', message, extra),
  invalid: (message: string) => scimError(400, 'invalid_scim_resource', message),
  invalidPassword: (message: string) => scimError(422, 'invalid_password', message),
  versionMismatch: () =>
    scimError(
      409,
      'version_mismatch',
      'Version mismatch: the resource was changed since it was read (If-Match)',
    ),
  missingIfMatch: (method: string) => scimError(400, 'invalid_request', `Missing If-Match for ${method}`),
  invalidFilter: (message: string) => scimError(400, 'invalid_filter', message),
} as const;
