import { Router } from '../http.js';
import { artifactRoutes } from './artifacts.js';
import type { RouteContext } from './context.js';
import { configRoutes } from './configs.js';
import { deploymentRoutes } from './deployments.js';
import { eventRoutes } from './events.js';
import { infoRoutes } from './info.js';
import { taskRoutes } from './tasks.js';
import type { TaskWatchers } from './taskEventStream.js';

/**
 * The Director HTTP API's routes, one file per resource, in the shapes bosh CLI v7 decodes
 * (`director/*.go` in cloudfoundry/bosh-cli) and BOSH's controllers write (`api/controllers/*.rb`).
 */
export function directorRouter(context: RouteContext, watchers: TaskWatchers): Router {
  const router = new Router();
  infoRoutes(router, context);
  deploymentRoutes(router, context);
  taskRoutes(router, context, watchers);
  eventRoutes(router, context);
  configRoutes(router, context);
  artifactRoutes(router, context);
  return router;
}

export type { RouteContext } from './context.js';
export { setUser, userOf, contextIdOf } from './context.js';
export { TaskWatchers } from './taskEventStream.js';
export { DIRECTOR_VERSION, TASK_EVENT_STREAM_FEATURE } from './info.js';
