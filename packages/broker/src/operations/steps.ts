import { POST_DEPLOY_ERRAND, PRE_DELETE_ERRAND } from '../adapter/plan.js';
import { OperationType } from '../contract/operationData.js';

/**
 * One Director task of an operation. An operation is its steps in order, each started (under the
 * operation's context id) when the one before has ended `done`.
 */
export type Step = { kind: 'deploy' } | { kind: 'errand'; name: string } | { kind: 'delete' };

/** Create, update, upgrade and recreate: the deploy, then the post-deploy lifecycle errand. */
export const DEPLOY_STEPS: readonly Step[] = [
  { kind: 'deploy' },
  { kind: 'errand', name: POST_DEPLOY_ERRAND },
];

/** Delete: the drain errand first when the deployment has it, then the deletion. */
export function deleteSteps(hasDrainErrand: boolean): Step[] {
  return hasDrainErrand
    ? [{ kind: 'errand', name: PRE_DELETE_ERRAND }, { kind: 'delete' }]
    : [{ kind: 'delete' }];
}

/** The lifecycle errands an operation type runs (ODB's `Errands` in the operation data). */
export function errandsOf(type: OperationType): { name: string }[] {
  return type === OperationType.DELETE ? [{ name: PRE_DELETE_ERRAND }] : [{ name: POST_DEPLOY_ERRAND }];
}

/** What `last_operation` says of an operation while it runs, when it is done, and before why it failed. */
export const DESCRIPTIONS: Record<OperationType, { running: string; done: string; failed: string }> = {
  create: {
    running: 'Instance provisioning in progress',
    done: 'Instance provisioning completed',
    failed: 'Instance provisioning failed',
  },
  update: {
    running: 'Instance update in progress',
    done: 'Instance update completed',
    failed: 'Instance update failed',
  },
  upgrade: {
    running: 'Instance upgrade in progress',
    done: 'Instance upgrade completed',
    failed: 'Instance upgrade failed',
  },
  recreate: {
    running: 'Instance recreate in progress',
    done: 'Instance recreate completed',
    failed: 'Instance recreate failed',
  },
  delete: {
    running: 'Instance deletion in progress',
    done: 'Instance deletion completed',
    failed: 'Instance deletion failed',
  },
};
