import type { UaaContext } from '../context.js';
import { authenticateUser } from '../authentication.js';
import { randomToken, safeEqual, sha256Hex } from '../crypto.js';
import { oauthErrors, UaaError } from '../errors.js';
import { cookie, parseCookies, readForm, redirect, sendHtml } from '../http/io.js';
import { localRedirect } from '../http/localRedirect.js';
import type { Router } from '../http/router.js';
import { homePage, loginPage, messagePage } from '../loginPage.js';
import { findClient } from '../store/clients.js';
import { resumeSession, SESSION_COOKIE, startSession, type SessionState } from '../sessions.js';
import { deleteSession, insertAuthorizationCode } from '../store/tokens.js';
import type { UserRow } from '../store/users.js';
import { GrantType, parseScopeParameter, userGroupNames, userTokenScopes } from '../tokenService.js';

/** UAA's name for its double-submit CSRF cookie and form field. */
const CSRF_COOKIE = 'X-Uaa-Csrf';
const CODE_VALIDITY_SECONDS = 300;

/**
 * UAA would send the user on to `/force_password_change`; this UAA has no such page, so the sign-in stops
 * here and says who can unblock it. The password grant keeps UAA's terse wording.
 */
const PASSWORD_CHANGE_REQUIRED_ON_LOGIN_PAGE =
  'Your password must be changed before you can sign in, and it cannot be changed on this page. ' +
  'Ask an administrator to set a new password for you (for example with "uaac password set <username>"), ' +
  'then sign in with that password.';

/** Forgets a session cookie the server no longer honours, so the browser stops sending it. */
const CLEAR_SESSION_COOKIE = cookie(SESSION_COOKIE, '', { maxAge: 0 });

/** Browser login: `/login`, `/login.do`, `/logout.do`, and `/oauth/authorize` (authorization code + PKCE). */
export function loginRoutes(router: Router, ctx: UaaContext): void {
  router.on('GET', '/login', ({ res, url }) => {
    const redirectTo = localRedirect(url.searchParams.get('redirect'), ctx.baseUrl);
    const csrf = randomToken(24);
    sendHtml(res, 200, loginPage({ csrfToken: csrf, ...(redirectTo ? { redirect: redirectTo } : {}) }), {
      'Set-Cookie': cookie(CSRF_COOKIE, csrf),
    });
  });

  router.on('POST', '/login.do', async ({ req, res }) => {
    const form = await readForm(req, { query: false });
    const redirectTo = localRedirect(form.get('form_redirect_uri'), ctx.baseUrl);
    const csrfCookie = parseCookies(req).get(CSRF_COOKIE);
    const csrfField = form.get(CSRF_COOKIE);
    const fresh = randomToken(24);
    const again = (status: number, error: string, username?: string) =>
      sendHtml(
        res,
        status,
        loginPage({
          csrfToken: fresh,
          error,
          ...(redirectTo ? { redirect: redirectTo } : {}),
          ...(username ? { username } : {}),
        }),
        { 'Set-Cookie': cookie(CSRF_COOKIE, fresh) },
      );
    if (!csrfCookie || !csrfField || !safeEqual(csrfCookie, csrfField)) {
      again(403, 'Your sign-in form expired or was not sent from this page. Please try again.');
      return;
    }
    const username = form.get('username') ?? '';
    let user: UserRow;
    try {
      user = await authenticateUser(ctx, username, form.get('password') ?? '');
    } catch (error) {
      if (error instanceof UaaError && error.status === 401) {
        // Locked, deactivated or needing a new password is worth saying; a wrong password is not told apart.
        const shown =
          error.description === oauthErrors.badUserCredentials().description
            ? 'Unable to verify email or password. Please try again.'
            : error.description === oauthErrors.passwordChangeRequired().description
              ? PASSWORD_CHANGE_REQUIRED_ON_LOGIN_PAGE
              : error.description;
        again(401, shown, username);
        return;
      }
      throw error;
    }
    const sessionId = await startSession(ctx, user);
    ctx.logger.info({ user_id: user.id }, 'user signed in');
    redirect(res, redirectTo ?? '/', {
      'Set-Cookie': [cookie(SESSION_COOKIE, sessionId), cookie(CSRF_COOKIE, '', { maxAge: 0 })],
    });
  });

  router.on('GET', '/', async ({ req, res }) => {
    const state = await resumeSession(ctx, req);
    if (state.kind !== 'active') {
      redirect(res, '/login', clearEndedSession(state));
      return;
    }
    const csrf = randomToken(24);
    sendHtml(res, 200, homePage(state.user.username, csrf), { 'Set-Cookie': cookie(CSRF_COOKIE, csrf) });
  });

  router.on(['GET', 'POST'], '/logout.do', async ({ req, res }) => {
    const form = await readForm(req);
    const sessionId = parseCookies(req).get(SESSION_COOKIE);
    if (sessionId) await deleteSession(ctx.db, sha256Hex(sessionId));
    const target = form.get('post_logout_redirect_uri') ?? form.get('redirect');
    const clientId = form.get('client_id');
    let location = '/login?logout=true';
    if (target && clientId) {
      const client = await findClient(ctx.db, clientId);
      if (client?.redirect_uri.some((uri) => sameRedirectTarget(uri, target))) location = target;
    }
    redirect(res, location, { 'Set-Cookie': CLEAR_SESSION_COOKIE });
  });

  router.on('GET', '/oauth/authorize', async ({ req, res, url }) => {
    const q = url.searchParams;
    const clientId = q.get('client_id');
    const client = clientId ? await findClient(ctx.db, clientId) : undefined;
    if (!client) {
      sendHtml(
        res,
        400,
        messagePage('Invalid request', `No client with requested id: ${clientId ?? '(none)'}`),
      );
      return;
    }
    // A redirect URI must be one the client registered; an unknown one gets an error page, never a redirect.
    const redirectParam = q.get('redirect_uri');
    const redirectUri = redirectParam ?? (client.redirect_uri.length === 1 ? client.redirect_uri[0]! : null);
    if (!redirectUri || !client.redirect_uri.includes(redirectUri)) {
      sendHtml(
        res,
        400,
        messagePage(
          'Invalid redirect',
          `Invalid redirect ${redirectParam ?? '(none)'} did not match one of the registered values`,
        ),
      );
      return;
    }
    const state = q.get('state');
    const fail = (error: string, description: string, headers: Record<string, string> = {}) => {
      const target = new URL(redirectUri);
      target.searchParams.set('error', error);
      target.searchParams.set('error_description', description);
      if (state !== null) target.searchParams.set('state', state);
      redirect(res, target.href, headers);
    };
    if (q.get('response_type') !== 'code') {
      fail('unsupported_response_type', 'Only response_type=code is supported');
      return;
    }
    if (!client.authorized_grant_types.includes(GrantType.AUTHORIZATION_CODE)) {
      fail('unauthorized_client', 'Unauthorized grant type: authorization_code');
      return;
    }
    const challenge = q.get('code_challenge');
    const method = q.get('code_challenge_method');
    // `plain` sends the verifier itself through the browser, so PKCE would protect nothing against whoever
    // sees the authorize URL; RFC 7636 makes `plain` the default when no method is sent, so a missing
    // method is refused too rather than read as S256.
    if (challenge !== null && method === null) {
      fail('invalid_request', 'code_challenge_method must be S256 (allowed: S256)');
      return;
    }
    if (challenge !== null && method !== 'S256') {
      // The client's own value is not echoed: it lands in the callback URL, which may be logged or shown.
      fail(
        'invalid_request',
        `code_challenge_method: ${method === 'plain' ? 'plain' : 'this method'} is not allowed (allowed: S256)`,
      );
      return;
    }
    if (challenge !== null && !/^[A-Za-z0-9\-._~]{43,128}$/.test(challenge)) {
      fail(
        'invalid_request',
        'code_challenge: must be 43-128 characters of [A-Z] [a-z] [0-9] - . _ ~ (the base64url SHA-256 of the verifier)',
      );
      return;
    }
    if (challenge === null && client.secret_hash === null) {
      fail('invalid_request', 'Code challenge required.');
      return;
    }

    // A session ended by a password change, a revoke-all, a deletion or a required password change is no
    // sign-in: the browser goes to the login page with this request kept, and no code comes from it.
    const signIn = await resumeSession(ctx, req);
    const prompt = q.get('prompt') ?? '';
    if (signIn.kind !== 'active' || prompt.split(' ').includes('login')) {
      if (prompt === 'none') {
        fail('login_required', 'The user is not signed in', clearEndedSession(signIn));
        return;
      }
      const back = new URL(url.href);
      back.searchParams.delete('prompt');
      redirect(
        res,
        `/login?redirect=${encodeURIComponent(`${back.pathname}${back.search}`)}`,
        clearEndedSession(signIn),
      );
      return;
    }
    const { session, user } = signIn;

    let scopes: string[];
    try {
      scopes = userTokenScopes(
        client,
        await userGroupNames(ctx.db, user.id),
        parseScopeParameter(q.get('scope') ?? undefined),
      );
    } catch (error) {
      if (error instanceof UaaError) {
        fail(error.error, error.description);
        return;
      }
      throw error;
    }
    const code = randomToken(24);
    await insertAuthorizationCode(ctx.db, {
      code_hash: sha256Hex(code),
      client_id: client.client_id,
      user_id: user.id,
      redirect_uri: redirectParam,
      scope: scopes,
      code_challenge: challenge,
      code_challenge_method: challenge ? 'S256' : null,
      nonce: q.get('nonce'),
      auth_time: session.auth_time,
      expires_at: new Date(ctx.clock.now().getTime() + CODE_VALIDITY_SECONDS * 1000),
    });
    const target = new URL(redirectUri);
    target.searchParams.set('code', code);
    if (state !== null) target.searchParams.set('state', state);
    redirect(res, target.href);
  });
}

function clearEndedSession(state: SessionState): Record<string, string> {
  return state.kind === 'ended' ? { 'Set-Cookie': CLEAR_SESSION_COOKIE } : {};
}

function sameRedirectTarget(registered: string, target: string): boolean {
  try {
    const a = new URL(registered);
    const b = new URL(target);
    return a.origin === b.origin;
  } catch {
    return false;
  }
}
