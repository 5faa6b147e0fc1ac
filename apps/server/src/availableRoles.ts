import { apiRole } from '@openpks/api';
import { directorRole } from '@openpks/bosh';
import { brokerRole } from '@openpks/broker';
import { nsxRole } from '@openpks/nsx';
import type { RoleModule } from '@openpks/role';
import { uaaRole } from '@openpks/uaa';
import { consoleRole } from './console/consoleRole.js';

/**
 * The roles this build of pks-server can run: `--roles all` starts every one listed here, in the order
 * their `after` lists require.
 */
export const availableRoles: readonly RoleModule[] = [
  uaaRole,
  directorRole,
  nsxRole,
  brokerRole,
  apiRole,
  consoleRole,
];
