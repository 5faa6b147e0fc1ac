'use server';

import { InputError, validateClusterName, validateHostname } from '@openpks/domain';

/**
 * Checks a new cluster's name and hostname with the very functions the API validates them with
 * (@openpks/domain), so the form reports the same rule before anything is sent.
 */
export async function checkClusterFields(fields: {
  name: string;
  externalHostname: string;
}): Promise<Record<string, string>> {
  const errors: Record<string, string> = {};
  for (const [field, check] of [
    ['name', () => validateClusterName(fields.name, 'name')],
    ['externalHostname', () => validateHostname(fields.externalHostname, 'externalHostname')],
  ] as const) {
    try {
      check();
    } catch (error) {
      if (!(error instanceof InputError)) throw error;
      errors[field] = error.allowed ? `${error.message} (allowed: ${error.allowed})` : error.message;
    }
  }
  return errors;
}
