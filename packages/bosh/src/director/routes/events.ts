import { sendJson, type Router } from '../http.js';
import type { RouteContext } from './context.js';

/** `bosh events`: the Director's audit trail with BOSH's filters, 200 a page. */
export function eventRoutes(r: Router, context: RouteContext): void {
  r.on('GET', '/events', async (_req, res, _params, query) => {
    sendJson(
      res,
      200,
      await context.stores.events.list({
        beforeId: query.get('before_id'),
        beforeTime: query.get('before_time'),
        afterTime: query.get('after_time'),
        task: query.get('task'),
        deployment: query.get('deployment'),
        instance: query.get('instance'),
        user: query.get('user'),
        action: query.get('action'),
        objectType: query.get('object_type'),
        // BOSH's controller reads `object_id`; the CLI's flag is --object-name.
        objectName: query.get('object_name') ?? query.get('object_id'),
      }),
    );
  });
}
