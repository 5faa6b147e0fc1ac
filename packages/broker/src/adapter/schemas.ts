import { DRAIN_RULES, drainSettingKeyOf } from '@openpks/domain';
import { DRAIN_SETTING_NAMES, type OdbPlan, type PlanSchemas } from './types.js';

const JSON_SCHEMA = 'http://json-schema.org/draft-04/schema#';

/**
 * `generate-plan-schemas`: JSON Schemas of the parameters a plan accepts, published in the OSB catalog.
 * Worker bounds come from the plan; masters are not a parameter (the plan fixes them).
 */
export function generatePlanSchemas(plan: OdbPlan): PlanSchemas {
  const props = plan.properties;
  const defaultWorkers = plan.instance_groups.find((g) => g.name === 'worker')?.instances ?? 1;
  const drainDetails = {
    type: 'object',
    description: 'Per-cluster node drain settings (strings, as the PKS API sends them)',
    // Published from the one drain rule the adapter enforces (a platform that sends anything else gets 400).
    properties: Object.fromEntries(
      DRAIN_SETTING_NAMES.map((name) => {
        const rule = DRAIN_RULES[drainSettingKeyOf(name)!];
        const description = `${rule.allowed}: ${rule.meaning}`;
        return [
          name,
          rule.range === undefined
            ? { type: 'string', enum: ['true', 'false'], description }
            : { type: 'string', pattern: '^-?[0-9]+$', description },
        ];
      }),
    ),
  };
  const workers = {
    type: 'integer',
    minimum: 1,
    maximum: props.max_worker_instances,
    description: `Number of worker nodes (1 to ${props.max_worker_instances} on plan ${props.plan_name})`,
  };
  const common = {
    kubernetes_master_port: { type: 'integer', minimum: 1, maximum: 65535, default: 8443 },
    authorization_mode: { type: 'string', enum: ['rbac', 'abac'], default: 'rbac' },
    kubernetes_setting_cluster_details: drainDetails,
    nsxt_network_profile: { type: 'string', description: 'The network profile as a JSON string' },
    nsxt_network_details: { type: 'object' },
    compute_profile: { type: 'string', description: 'The compute profile as a JSON string' },
    worker_haproxy_ip_addresses: { type: 'string' },
    k8s_customization_parameters: { type: 'object' },
    custom_ca_certs: {
      type: 'array',
      items: {
        type: 'object',
        required: ['domain_name', 'ca_cert'],
        properties: { domain_name: { type: 'string' }, ca_cert: { type: 'string' } },
      },
    },
  };
  return {
    service_instance: {
      create: {
        parameters: {
          $schema: JSON_SCHEMA,
          type: 'object',
          required: ['kubernetes_master_host'],
          properties: {
            kubernetes_master_host: {
              type: 'string',
              description: 'External hostname (or IP) of the Kubernetes API',
            },
            kubernetes_worker_instances: { ...workers, default: defaultWorkers },
            ...common,
          },
        },
      },
      update: {
        parameters: {
          $schema: JSON_SCHEMA,
          type: 'object',
          properties: { kubernetes_worker_instances: workers, ...common },
        },
      },
    },
    service_binding: {
      create: {
        parameters: {
          $schema: JSON_SCHEMA,
          type: 'object',
          description:
            'None for a client-certificate kubeconfig (cluster-admin until unbound); or the requesting user and the tokens UAA issued to them for pks_cluster_client, which become an OIDC kubeconfig user',
          // All three OIDC fields or none: a platform that sends no parameters is valid against this schema.
          dependencies: {
            user_name: ['id_token', 'refresh_token'],
            id_token: ['user_name', 'refresh_token'],
            refresh_token: ['user_name', 'id_token'],
          },
          properties: {
            user_name: { type: 'string' },
            id_token: { type: 'string' },
            refresh_token: { type: 'string' },
            cluster_name: { type: 'string' },
          },
        },
      },
    },
  };
}
