import type { DataDirectory, SecretBox } from '@openpks/pki';
import { DIRECTOR_CLIENT_SECRET_CONTEXT, DIRECTOR_CLIENT_SECRET_FILE } from './constants.js';

/**
 * The `pks_director` client secret the UAA generated on first start, for the component that calls the
 * embedded Director in the same installation (it shares the data directory and its encryption key).
 * Undefined until the UAA has started once.
 */
export async function loadDirectorClientSecret(
  dataDir: DataDirectory,
  secrets: SecretBox,
): Promise<string | undefined> {
  const sealed = await dataDir.read(DIRECTOR_CLIENT_SECRET_FILE);
  if (!sealed || sealed.length === 0) return undefined;
  return secrets.openString(sealed.toString('utf8').trim(), DIRECTOR_CLIENT_SECRET_CONTEXT);
}
