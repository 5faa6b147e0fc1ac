import type { Plan } from '@openpks/domain';
import { odbPlanOf } from '../adapter/plan.js';
import { generatePlanSchemas } from '../adapter/schemas.js';
import type { OidcSettings } from '../adapter/types.js';

/** The one service the broker offers; a fixed id so platforms keep their registrations across restarts. */
export const PKS_SERVICE_ID = '2f8a6a8e-3f3b-4c1e-9a52-6d5b0c7e1a10';
export const PKS_SERVICE_NAME = 'pks';

/**
 * `GET /v2/catalog` (the newest version's fields; `catalogForVersion` trims them per platform): the pks
 * service and its active plans, each with the parameter schemas the adapter generates from it.
 */
export function brokerCatalog(plans: readonly Plan[], oidc: OidcSettings): Record<string, unknown> {
  return {
    services: [
      {
        id: PKS_SERVICE_ID,
        name: PKS_SERVICE_NAME,
        description: 'Kubernetes clusters on BOSH (openpks)',
        bindable: true,
        instances_retrievable: true,
        bindings_retrievable: true,
        plan_updateable: false,
        tags: ['pks', 'kubernetes'],
        metadata: { displayName: 'Enterprise PKS (openpks)' },
        plans: plans
          .filter((plan) => plan.active)
          .map((plan) => ({
            id: plan.id,
            name: plan.name,
            description: plan.description || `Plan ${plan.name}`,
            free: true,
            bindable: true,
            plan_updateable: false,
            metadata: {
              master_instances: plan.master.instances,
              worker_instances: plan.worker.instances,
              max_worker_instances: plan.worker.maxInstances,
            },
            schemas: generatePlanSchemas(odbPlanOf(plan, oidc)),
          })),
      },
    ],
  };
}
