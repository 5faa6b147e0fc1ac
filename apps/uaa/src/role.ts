import type { RoleModule } from '@openpks/role';
import { ADMIN_CLIENT_SECRET_FILE } from './constants.js';
import { startUaaServer } from './server.js';

/** The `uaa` role of pks-server: OAuth2/OIDC tokens, SCIM users and groups, client registrations. */
export const uaaRole: RoleModule = {
  name: 'uaa',
  async start(config, deps) {
    const server = await startUaaServer({
      config,
      db: deps.db,
      dataDir: deps.dataDir,
      secrets: deps.secrets,
      tls: deps.tls,
      logger: deps.logger.child({ role: 'uaa' }),
      adminPassword: deps.adminPassword,
    });
    return {
      url: server.url,
      banner: {
        'UAA issuer': server.issuer,
        'UAA admin user': 'admin',
        'UAA admin client secret file': deps.dataDir.path(ADMIN_CLIENT_SECRET_FILE),
      },
      stop: () => server.stop(),
    };
  },
};
