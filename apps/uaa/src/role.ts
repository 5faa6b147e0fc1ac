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
      sharedSecrets: deps.sharedSecrets,
      tls: deps.tls,
      // pks-server already binds `role` to the logger it hands each role.
      logger: deps.logger,
      adminPassword: deps.adminPassword,
    });
    return {
      url: server.url,
      banner: {
        'UAA issuer': server.issuer,
        'UAA admin client': `admin (secret in ${deps.dataDir.path(ADMIN_CLIENT_SECRET_FILE)})`,
      },
      stop: () => server.stop(),
    };
  },
};
