import { X509Certificate } from 'node:crypto';
import type { DirectorInfo } from '../../protocol/types.js';
import { CONFIG_SERVER_PATH } from '../configServerApi.js';
import { sendJson, type Router } from '../http.js';
import { userOf, type RouteContext } from './context.js';

export const DIRECTOR_VERSION = '270.11.0 (openpks embedded)';
/** The `/info` feature that advertises the push stream of task events (an openpks extension). */
export const TASK_EVENT_STREAM_FEATURE = 'openpks_task_event_stream';

/** `/info` (`bosh env`, open to all, naming the caller when its token verifies) and certificate expiry. */
export function infoRoutes(r: Router, context: RouteContext): void {
  r.on('GET', '/info', async (req, res) => {
    // The config server (CredHub's read API) is on this listener; name it as the client reached us.
    const origin = `https://${req.headers.host ?? new URL(context.url()).host}`;
    const info: DirectorInfo = {
      name: context.name,
      uuid: context.uuid(),
      version: DIRECTOR_VERSION,
      user: userOf(req) ?? null,
      cpi: 'sim',
      stemcell_os: 'ubuntu-xenial',
      stemcell_version: '621.29',
      user_authentication: {
        type: 'uaa',
        options: { url: context.uaaUrl, urls: [context.uaaUrl] },
      },
      features: {
        local_dns: { status: false, extras: { domain_name: 'bosh' } },
        power_dns: { status: false, extras: { domain_name: 'bosh' } },
        snapshots: { status: false },
        config_server: { status: true, extras: { urls: [`${origin}${CONFIG_SERVER_PATH}`] } },
        [TASK_EVENT_STREAM_FEATURE]: {
          status: true,
          extras: { path: '/tasks/:id/event_stream', content_type: 'text/event-stream' },
        },
      },
    };
    sendJson(res, 200, info);
  });

  // `bosh env --details`: when each certificate the Director serves with expires.
  r.on('GET', '/director/certificate_expiry', async (_req, res) => {
    const now = Date.now();
    sendJson(
      res,
      200,
      context.certificates().map(({ path, pem }) => {
        const notAfter = new Date(new X509Certificate(pem).validTo);
        return {
          certificate_path: path,
          expiry: `${notAfter.toISOString().slice(0, 19)}Z`,
          days_left: Math.floor((notAfter.getTime() - now) / 86_400_000),
        };
      }),
    );
  });
}
