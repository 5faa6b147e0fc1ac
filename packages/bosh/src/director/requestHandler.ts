import type { IncomingMessage, ServerResponse } from 'node:http';
import { ForbiddenError, InputError, NotFoundError, UnauthenticatedError } from '@openpks/domain';
import type { Logger } from '@openpks/role';
import { CONFIG_SERVER_PATH } from './configServerApi.js';
import type { DirectorAuth } from './directorAuth.js';
import { NotAuthorized, sendNotAuthorized } from './directorAuth.js';
import { sendError, sendJson, type Router } from './http.js';
import { setUser } from './routes/index.js';

/** The longest `X-Bosh-Context-Id` BOSH accepts. */
const MAX_CONTEXT_ID_LENGTH = 64;

/**
 * Every request to the Director's listener: the config server's read API under its path; any other goes
 * through the door (who is calling, may they), BOSH's checks of every request, then its route. Errors
 * are answered as BOSH answers them; unexpected ones are logged, never shown.
 */
export function directorRequestHandler(deps: {
  router: Router;
  auth: DirectorAuth;
  configServer: (req: IncomingMessage, res: ServerResponse, url: URL) => Promise<void>;
  logger: Logger;
}): (req: IncomingMessage, res: ServerResponse) => Promise<void> {
  const { router, auth, configServer, logger } = deps;
  return async (req, res) => {
    const url = new URL(req.url ?? '/', 'https://director');
    if (url.pathname.startsWith(CONFIG_SERVER_PATH)) {
      await configServer(req, res, url);
      return;
    }
    try {
      const found = router.match(req.method ?? 'GET', url.pathname);
      setUser(req, await auth.authorize(req, url));
      const contextId = req.headers['x-bosh-context-id'];
      if (typeof contextId === 'string' && contextId.length > MAX_CONTEXT_ID_LENGTH) {
        // BOSH's ContextIdViolatedMax, checked on every request as its base controller does.
        throw new InputError(
          'X-Bosh-Context-Id',
          `X-Bosh-Context-Id cannot be more than ${MAX_CONTEXT_ID_LENGTH} characters in length`,
          { details: { boshCode: 70010 } },
        );
      }
      if (found === undefined) throw new NotFoundError(`no route ${url.pathname}`);
      if (found === 'method') {
        sendJson(res, 405, { code: 100, description: `${req.method} is not allowed on ${url.pathname}` });
        return;
      }
      await found.handler(req, res, found.params, url.searchParams);
    } catch (error) {
      if (!(
        error instanceof UnauthenticatedError ||
        error instanceof ForbiddenError ||
        error instanceof NotFoundError ||
        error instanceof InputError
      )) {
        logger.error({ err: error, url: req.url }, 'director request failed');
      }
      if (res.headersSent) res.destroy();
      else if (error instanceof UnauthenticatedError)
        sendNotAuthorized(res, url.pathname, error instanceof NotAuthorized ? error.reason : error.message);
      else sendError(res, error);
    }
  };
}
