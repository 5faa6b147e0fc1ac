import { InputError } from './errors.js';

/** What a cluster last had done to it (PKS `last_action`). */
export const LastAction = {
  CREATE: 'CREATE',
  UPDATE: 'UPDATE',
  DELETE: 'DELETE',
  UPGRADE: 'UPGRADE',
} as const;
export type LastAction = (typeof LastAction)[keyof typeof LastAction];

/** How that action is going (PKS `last_action_state`). */
export const LastActionState = {
  IN_PROGRESS: 'in progress',
  SUCCEEDED: 'succeeded',
  FAILED: 'failed',
  QUEUED: 'queued',
} as const;
export type LastActionState = (typeof LastActionState)[keyof typeof LastActionState];

export const CLUSTER_NAME_MAX_LENGTH = 40;
const CLUSTER_NAME = /^[a-z](?:[a-z0-9-]*[a-z0-9])?$/;

/**
 * Cluster names become BOSH deployment labels, DNS labels and Kubernetes object names, so they are
 * lowercase letters, digits and `-`, start with a letter, end alphanumeric, 1–40 characters.
 */
export function validateClusterName(name: unknown, field = 'name'): string {
  const allowed = `1-${CLUSTER_NAME_MAX_LENGTH} lowercase letters, digits and '-', starting with a letter and ending with a letter or digit`;
  if (typeof name !== 'string' || name.length === 0) {
    throw new InputError(field, 'cluster name is required', { allowed });
  }
  if (name.length > CLUSTER_NAME_MAX_LENGTH) {
    throw new InputError(field, `cluster name "${name}" is ${name.length} characters long`, { allowed });
  }
  if (!CLUSTER_NAME.test(name)) {
    const reason = /[A-Z]/.test(name)
      ? 'contains uppercase letters'
      : !/^[a-z]/.test(name)
        ? 'does not start with a letter'
        : !/[a-z0-9]$/.test(name)
          ? 'does not end with a letter or digit'
          : 'contains characters other than lowercase letters, digits and -';
    throw new InputError(field, `cluster name "${name}" ${reason}`, { allowed });
  }
  return name;
}
