import type { IncomingMessage, ServerResponse } from 'node:http';
import { bearerToken, hasAnyScope, type TokenVerifier, type VerifiedToken } from '@openpks/auth';
import { ForbiddenError, UnauthenticatedError } from '@openpks/domain';
import type { Logger } from '@openpks/role';

/**
 * The Director's door: who the caller is (a UAA token) and what it may do (BOSH's director scopes). It
 * answers as BOSH's `base_controller.rb` does: a request without a usable credential gets 401, the text
 * body `Not authorized: '<path>'` and `WWW-Authenticate: Basic realm="BOSH Director"`, whatever was
 * wrong with the token; a token that lacks the scope gets BOSH's `{"code":600000,"description":"Require
 * one of the scopes: …"}` (BOSH sends it with 401, we with 403: the token is good, only the scope is
 * missing, and our DirectorClient tells the two apart).
 */
export class DirectorAuth {
  constructor(
    private readonly verifier: TokenVerifier,
    private readonly uuid: () => string,
    private readonly logger: Logger,
  ) {}

  /**
   * The caller's verified token, or undefined when the request carries none that verifies. Never
   * throws: whatever a verifier throws on a hostile token (it should be an UnauthenticatedError, but a
   * verifier is another package's code) is a failed authentication here, never a 500.
   */
  async identify(req: IncomingMessage): Promise<{ token?: VerifiedToken; reason?: string }> {
    const header = req.headers.authorization;
    if (header === undefined) return {};
    const raw = bearerToken(header);
    if (raw === undefined) return { reason: 'a UAA bearer token is required' };
    try {
      return { token: await this.verifier.verify(raw) };
    } catch (error) {
      if (error instanceof UnauthenticatedError) return { reason: error.message };
      this.logger.warn({ err: error }, 'the token verifier failed on a presented token');
      return { reason: 'token invalid' };
    }
  }

  /** The user BOSH names for a token (`username_or_client`): the user's name, else the client's id. */
  static userOf(token: VerifiedToken): string {
    return token.userName ?? token.clientId;
  }

  adminScopes(): string[] {
    return ['bosh.admin', `bosh.${this.uuid()}.admin`];
  }

  readScopes(): string[] {
    return [...this.adminScopes(), 'bosh.read', `bosh.${this.uuid()}.read`];
  }

  /**
   * Who is calling, and whether they may: every route but `/info` needs a verified token with a read
   * scope (GET) or an admin scope (anything else, and the debug and CPI logs of tasks, as in BOSH's
   * tasks controller). `/info` names the caller when the token verifies and stays open when it does not.
   * Returns the user BOSH names for the caller.
   */
  async authorize(req: IncomingMessage, url: URL): Promise<string | undefined> {
    const { token, reason } = await this.identify(req);
    if (url.pathname === '/info') return token && DirectorAuth.userOf(token);
    if (token === undefined) throw new NotAuthorized(reason);
    const reading = req.method === 'GET' || req.method === 'HEAD';
    const taskLog =
      /^\/tasks\/[^/]+\/output\/?$/.test(url.pathname) &&
      ['debug', 'cpi'].includes(url.searchParams.get('type') ?? 'debug');
    this.require(token, reading && !taskLog ? this.readScopes() : this.adminScopes());
    return DirectorAuth.userOf(token);
  }

  /** Throws BOSH's scope error unless the token carries one of `scopes`. */
  require(token: VerifiedToken, scopes: readonly string[]): void {
    if (hasAnyScope(token, scopes)) return;
    throw new ForbiddenError(`Require one of the scopes: ${scopes.join(', ')}`, {
      details: { requiredScopes: [...scopes] },
    });
  }
}

/** Thrown where a request needs a credential it does not carry (or one that did not verify). */
export class NotAuthorized extends UnauthenticatedError {
  constructor(readonly reason: string | undefined) {
    super(reason ?? 'a UAA bearer token is required');
  }
}

/**
 * BOSH's 401: its text body and Basic challenge, then a Bearer challenge (RFC 6750) that says what was
 * wrong with a token that was presented, so an operator's curl shows why without a server log.
 */
export function sendNotAuthorized(res: ServerResponse, path: string, reason: string | undefined): void {
  const challenges = ['Basic realm="BOSH Director"'];
  challenges.push(
    reason === undefined
      ? 'Bearer realm="BOSH Director"'
      : `Bearer realm="BOSH Director", error="invalid_token", error_description="${quoted(reason)}"`,
  );
  const body = `Not authorized: '${path}'\n`;
  res.writeHead(401, {
    'Content-Type': 'text/plain; charset=utf-8',
    'Content-Length': String(Buffer.byteLength(body)),
    'Cache-Control': 'no-store',
    'WWW-Authenticate': challenges,
  });
  res.end(body);
}

/** A reason fit for a quoted-string: printable ASCII without quotes or backslashes. */
function quoted(reason: string): string {
  return reason.replace(/[^\x20-\x7e]|["\\]/g, '').slice(0, 200);
}
