import type { RoleDeps } from '@openpks/role';
import {
  DIRECTOR_CLIENT_SECRET,
  DIRECTOR_CLIENT_SECRET_CONTEXT,
  DIRECTOR_CLIENT_SECRET_FILE,
} from './constants.js';

/**
 * The `pks_director` client secret the UAA generated on first start, for the components that call the
 * embedded Director (on this machine or another: it is shared through the database). Undefined until
 * the UAA has started once.
 */
export async function loadDirectorClientSecret(
  deps: Pick<RoleDeps, 'sharedSecrets'>,
): Promise<string | undefined> {
  return deps.sharedSecrets.read(DIRECTOR_CLIENT_SECRET, {
    file: DIRECTOR_CLIENT_SECRET_FILE,
    fileSealedAs: DIRECTOR_CLIENT_SECRET_CONTEXT,
  });
}
