'use server';

import { InputError, validateClusterName, validateHostname } from '@openpks/domain';

/** Why a field was refused and what is allowed, for the form to show in the domain's rule. */
export interface FieldProblem {
  reason: string;
  allowed?: string;
}

/**
 * Checks a new cluster's name and hostname with the very functions the API validates them with
 * (@openpks/domain), so the form reports the same rule before anything is sent.
 */
export async function checkClusterFields(fields: {
  name: string;
  externalHostname: string;
}): Promise<Record<string, FieldProblem>> {
  const errors: Record<string, FieldProblem> = {};
  for (const [field, check] of [
    ['name', () => validateClusterName(fields.name, 'name')],
    ['externalHostname', () => validateHostname(fields.externalHostname, 'externalHostname')],
  ] as const) {
    try {
      check();
    } catch (error) {
      if (!(error instanceof InputError)) throw error;
      errors[field] = { reason: error.message, ...(error.allowed ? { allowed: error.allowed } : {}) };
    }
  }
  return errors;
}
