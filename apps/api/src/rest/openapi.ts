import { PKS_VERSION } from '../clusters/versions.js';

// The OpenAPI 3 description of PKS v1 as openpks serves it, for users' own client generators. Written
// by hand from PKS-REFERENCE §2 beside the code; the tests check the code against fixtures written
// separately, never against this, so the two cannot agree on a mistake.

type Schema = Record<string, unknown>;
const ref = (name: string): Schema => ({ $ref: `#/components/schemas/${name}` });
const str: Schema = { type: 'string' };
const int: Schema = { type: 'integer', format: 'int32' };
const list = (items: Schema): Schema => ({ type: 'array', items });
const json = (schema: Schema) => ({ content: { 'application/json': { schema } } });
const error = (description: string) => ({ description, ...json(ref('ErrorResponse')) });

const LAST_ACTION = { type: 'string', enum: ['CREATE', 'UPDATE', 'DELETE', 'UPGRADE'] };
const LAST_ACTION_STATE = { type: 'string', enum: ['in progress', 'succeeded', 'failed', 'queued'] };
const DRAIN: Schema = {
  type: 'object',
  description: 'The six kubelet drain settings, as strings',
  properties: Object.fromEntries(
    ['timeout', 'grace_period', 'force', 'ignore_daemonsets', 'delete_local_data', 'force_node'].map((k) => [
      `kubelet_drain_${k}`,
      str,
    ]),
  ),
};

const schemas: Record<string, Schema> = {
  ErrorResponse: {
    type: 'object',
    required: ['body'],
    properties: { body: { type: 'string', description: 'What went wrong; bad input names each field' } },
  },
  Plan: {
    type: 'object',
    required: [
      'id',
      'name',
      'description',
      'worker_instances',
      'master_instances',
      'allow-privileged-containers',
    ],
    properties: {
      id: str,
      name: str,
      description: str,
      worker_instances: int,
      master_instances: int,
      'allow-privileged-containers': { type: 'boolean' },
    },
  },
  ClusterParameters: {
    type: 'object',
    required: ['kubernetes_master_host'],
    properties: {
      kubernetes_master_host: str,
      kubernetes_master_port: { ...int, enum: [8443] },
      kubernetes_worker_instances: int,
      nsxt_network_profile: { type: 'string', description: 'The network profile, as a JSON string' },
      nsxt_network_details: { type: 'object', additionalProperties: true },
      kubernetes_setting_plan_details: DRAIN,
      kubernetes_setting_cluster_details: DRAIN,
    },
  },
  ClusterRequest: {
    type: 'object',
    required: ['name', 'plan_name', 'parameters'],
    additionalProperties: false,
    properties: {
      name: str,
      plan_name: str,
      network_profile_name: str,
      compute_profile_name: {
        type: 'string',
        description: 'Places every VM in the profile’s AZs; such a cluster cannot be resized',
      },
      parameters: ref('ClusterParameters'),
    },
  },
  Cluster: {
    type: 'object',
    required: ['name', 'plan_name', 'uuid'],
    properties: {
      name: str,
      plan_name: str,
      uuid: str,
      last_action: LAST_ACTION,
      last_action_state: LAST_ACTION_STATE,
      last_action_description: str,
      kubernetes_master_ips: list(str),
      network_profile_name: { type: 'string', nullable: true },
      compute_profile_name: { type: 'string', nullable: true },
      k8s_version: str,
      pks_version: str,
      parameters: ref('ClusterParameters'),
    },
  },
  UpdateClusterParameters: {
    type: 'object',
    additionalProperties: false,
    properties: {
      kubernetes_worker_instances: int,
      network_profile_name: str,
      ...(DRAIN.properties as Schema),
    },
  },
  UpgradeClustersRequest: {
    type: 'object',
    required: ['clusters'],
    additionalProperties: false,
    properties: { clusters: list(str), canaries: list(str), max_in_flight: int },
  },
  ClusterUpgradeInfo: {
    type: 'object',
    properties: {
      cluster_name: str,
      last_action: LAST_ACTION,
      last_action_state: LAST_ACTION_STATE,
      start_time: { type: 'integer', format: 'int64', description: 'Epoch seconds; 0 until started' },
      end_time: { type: 'integer', format: 'int64', description: 'Epoch seconds; 0 until ended' },
      is_canary: { type: 'boolean' },
    },
  },
  TaskInfo: {
    type: 'object',
    required: ['uuid', 'type', 'status'],
    properties: {
      uuid: str,
      type: { type: 'string', enum: ['UPGRADE'] },
      status: { type: 'string', enum: ['not started', 'in progress', 'canceled', 'done'] },
      start_time: { type: 'integer', format: 'int64' },
      end_time: { type: 'integer', format: 'int64' },
      clusters: list(ref('ClusterUpgradeInfo')),
    },
  },
  NetworkProfile: {
    type: 'object',
    required: ['name', 'parameters'],
    properties: { name: str, description: str, parameters: { type: 'object', additionalProperties: true } },
  },
  AZ: {
    type: 'object',
    required: ['name'],
    additionalProperties: false,
    properties: { name: str, datacenter: str, cluster: str, resource_pool: str },
  },
  ComputeProfileParameters: {
    type: 'object',
    required: ['azs'],
    additionalProperties: false,
    properties: { azs: { ...list(ref('AZ')), minItems: 1 } },
  },
  ComputeProfile: {
    type: 'object',
    required: ['name', 'parameters'],
    properties: {
      name: { type: 'string', maxLength: 26 },
      description: str,
      parameters: ref('ComputeProfileParameters'),
    },
  },
  BindRequest: {
    type: 'object',
    additionalProperties: false,
    description: 'PKS sends {}; openpks needs the password the OIDC tokens are issued with',
    properties: { password: str },
  },
  Kubeconfig: { type: 'object', additionalProperties: true, description: 'A kubeconfig, as JSON' },
  QuotaLimit: {
    type: 'object',
    additionalProperties: false,
    description:
      'Each field optional, an absent one no limit (POST: at least one). PATCH: a number changes that ' +
      'limit, null removes it. cpu or memory 0 blocks creating clusters',
    properties: {
      // Nullable for PATCH's removal; a response omits an unlimited field rather than sending null.
      cluster: { ...int, minimum: 1, nullable: true },
      cpu: { ...int, minimum: 0, nullable: true },
      memory: { type: 'number', format: 'float', minimum: 0, nullable: true, description: 'GB' },
    },
  },
  Quota: {
    type: 'object',
    required: ['owner', 'limit'],
    additionalProperties: false,
    properties: { owner: str, limit: ref('QuotaLimit') },
  },
  UsageTotals: {
    type: 'object',
    required: ['cpu', 'memory', 'cluster'],
    properties: { cpu: int, memory: { type: 'number', format: 'float' }, cluster: int },
  },
  ClusterUsage: {
    type: 'object',
    required: ['name', 'cpu', 'memory'],
    properties: { name: str, cpu: int, memory: { type: 'number', format: 'float' } },
  },
  Usage: {
    type: 'object',
    required: ['owner', 'totals', 'clusters'],
    properties: { owner: str, totals: ref('UsageTotals'), clusters: list(ref('ClusterUsage')) },
  },
};

const nameParam = (name: string) => ({ name, in: 'path', required: true, schema: str });
const standard = {
  '400': error('Bad input: the message names each bad field'),
  '401': error('No valid UAA bearer token'),
  '403': error('A PKS scope this call needs is missing'),
};

type Operation = Record<string, unknown>;
const op = (summary: string, responses: Record<string, unknown>, extra: Operation = {}): Operation => ({
  summary,
  responses: { ...responses, ...standard },
  ...extra,
});
const body = (schema: Schema) => ({ requestBody: { required: true, ...json(schema) } });
const notFound = { '404': error('Not found (or another user’s cluster)') };
const conflict = { '409': error('A duplicate, an operation in progress, or in use') };

export function openApiDocument(): Record<string, unknown> {
  return {
    openapi: '3.0.3',
    info: {
      title: 'openpks PKS API v1',
      version: PKS_VERSION,
      description:
        'The PKS 1.6 v1 REST API served by openpks. Authenticate with a UAA bearer token; errors are {"body": "<message>"}.',
    },
    servers: [{ url: '/' }],
    security: [{ uaa: [] }],
    paths: {
      '/v1/plans': { get: op('List plans', { '200': { description: 'Plans', ...json(list(ref('Plan'))) } }) },
      '/v1/clusters': {
        get: op('List clusters', { '200': { description: 'Clusters', ...json(list(ref('Cluster'))) } }),
        post: op(
          'Create a cluster',
          { '202': { description: 'Creating', ...json(ref('Cluster')) }, ...conflict },
          body(ref('ClusterRequest')),
        ),
        patch: op(
          'Upgrade clusters',
          { '202': { description: 'The upgrade task', ...json(ref('TaskInfo')) }, ...notFound, ...conflict },
          body(ref('UpgradeClustersRequest')),
        ),
      },
      '/v1/clusters/{name}': {
        parameters: [nameParam('name')],
        get: op('Show a cluster', {
          '200': { description: 'The cluster', ...json(ref('Cluster')) },
          ...notFound,
        }),
        patch: op(
          'Resize or update a cluster',
          { '202': { description: 'Updating', ...json(ref('Cluster')) }, ...notFound, ...conflict },
          body(ref('UpdateClusterParameters')),
        ),
        delete: op('Delete a cluster', { '204': { description: 'Deleting' }, ...notFound, ...conflict }),
      },
      '/v1/clusterdetails/{name}': {
        parameters: [nameParam('name')],
        get: op('Show a cluster with its details', {
          '200': { description: 'The cluster', ...json(ref('Cluster')) },
          ...notFound,
        }),
      },
      '/v1/clusters/{name}/binds': {
        parameters: [nameParam('name')],
        post: op(
          'Get a kubeconfig',
          { '201': { description: 'The kubeconfig', ...json(ref('Kubeconfig')) }, ...notFound, ...conflict },
          body(ref('BindRequest')),
        ),
      },
      '/v1/clusters/{name}/binds/{user}': {
        parameters: [
          nameParam('name'),
          nameParam('user'),
          { name: 'suppressClusterRoleBinding', in: 'query', required: false, schema: { type: 'boolean' } },
          { name: 'X-Pks-User-Password', in: 'header', required: true, schema: str },
        ],
        get: op('Get the kubeconfig of a user (yourself)', {
          '200': { description: 'The kubeconfig', ...json(ref('Kubeconfig')) },
          ...notFound,
        }),
      },
      '/v1/network-profiles': {
        get: op('List network profiles', {
          '200': { description: 'Profiles', ...json(list(ref('NetworkProfile'))) },
        }),
        post: op(
          'Create a network profile',
          { '201': { description: 'Created', ...json(ref('NetworkProfile')) }, ...conflict },
          body(ref('NetworkProfile')),
        ),
      },
      '/v1/network-profiles/{name}': {
        parameters: [nameParam('name')],
        get: op('Show a network profile', {
          '200': { description: 'The profile', ...json(ref('NetworkProfile')) },
          ...notFound,
        }),
        delete: op('Delete a network profile', {
          '204': { description: 'Deleted' },
          ...notFound,
          ...conflict,
        }),
      },
      '/v1/compute-profiles': {
        get: op('List compute profiles', {
          '200': { description: 'Profiles', ...json(list(ref('ComputeProfile'))) },
        }),
        post: op(
          'Create a compute profile',
          { '201': { description: 'Created', ...json(ref('ComputeProfile')) }, ...conflict },
          body(ref('ComputeProfile')),
        ),
      },
      '/v1/compute-profiles/{name}': {
        parameters: [nameParam('name')],
        get: op('Show a compute profile', {
          '200': { description: 'The profile', ...json(ref('ComputeProfile')) },
          ...notFound,
        }),
        delete: op('Delete a compute profile', { '204': { description: 'Deleted' }, ...notFound }),
      },
      '/v1/quotas': {
        get: op('List quotas', { '200': { description: 'Quotas', ...json(list(ref('Quota'))) } }),
        post: op(
          'Create a quota (admin)',
          { '201': { description: 'Created', ...json(ref('Quota')) }, ...conflict },
          body(ref('Quota')),
        ),
      },
      '/v1/quotas/{owner}': {
        parameters: [nameParam('owner')],
        get: op('Show a quota', { '200': { description: 'The quota', ...json(ref('Quota')) }, ...notFound }),
        patch: op(
          'Change a quota (admin): the limit fields given',
          { '200': { description: 'The quota', ...json(ref('Quota')) }, ...notFound },
          body(ref('Quota')),
        ),
        delete: op('Delete a quota (admin)', { '204': { description: 'Deleted' }, ...notFound }),
      },
      '/v1/usages': {
        get: op('Usage of every owner (one’s own for pks.clusters.manage)', {
          '200': { description: 'Usages', ...json(list(ref('Usage'))) },
        }),
      },
      '/v1/usages/{owner}': {
        parameters: [nameParam('owner')],
        get: op('One owner’s usage', {
          '200': { description: 'The usage', ...json(ref('Usage')) },
          ...notFound,
        }),
      },
      '/v1/tasks': {
        get: op('List tasks', { '200': { description: 'Tasks', ...json(list(ref('TaskInfo'))) } }),
      },
      '/v1/tasks/{id}': {
        parameters: [nameParam('id')],
        get: op('Show a task', { '200': { description: 'The task', ...json(ref('TaskInfo')) }, ...notFound }),
        put: op('Cancel a task', {
          '200': { description: 'The task', ...json(ref('TaskInfo')) },
          ...notFound,
          ...conflict,
        }),
      },
      '/v1/upgradable': {
        get: op('The PKS version clusters can be upgraded to', {
          '200': { description: 'A version', ...json(str) },
        }),
      },
    },
    components: {
      schemas,
      securitySchemes: { uaa: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } },
    },
  };
}
