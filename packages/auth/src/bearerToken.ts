/** RFC 6750 `b64token`: what may follow `Bearer `. */
const BEARER = /^bearer[ \t]+([A-Za-z0-9\-._~+/]+=*)[ \t]*$/i;

/**
 * The token in an `Authorization: Bearer <token>` header (the scheme in any case), or undefined when the
 * header is missing, uses another scheme, or holds no well-formed token.
 */
export function bearerToken(authorization: string | undefined): string | undefined {
  if (authorization === undefined) return undefined;
  return BEARER.exec(authorization)?.[1];
}
