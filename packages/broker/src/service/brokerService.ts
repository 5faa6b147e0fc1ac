import { randomUUID } from 'node:crypto';
import { isDeepStrictEqual } from 'node:util';
import { parse } from 'yaml';
import type { DirectorClient, DirectorTask } from '@openpks/bosh';
import { ACTIVE_TASK_STATES } from '@openpks/bosh';
import { SqlState, sqlStateOf, type Database, type Queryable } from '@openpks/db';
import { InputError, InternalError, NotFoundError, ConflictError, type Plan } from '@openpks/domain';
import type { SecretBox } from '@openpks/pki';
import type { TokenVerifier } from '@openpks/auth';
import type { Logger } from '@openpks/role';
import { dashboardUrl } from '../adapter/binding.js';
import { generateManifest, settingsFromManifest } from '../adapter/manifest.js';
import {
  DEPLOYMENT_PREFIX,
  POST_DEPLOY_ERRAND,
  PRE_DELETE_ERRAND,
  defaultServiceDeployment,
  deploymentNameOf,
  odbPlanOf,
} from '../adapter/plan.js';
import { generatePlanSchemas } from '../adapter/schemas.js';
import type { OdbPlan, OidcSettings, RequestParameters, ServiceDeployment } from '../adapter/types.js';
import { AsyncRequiredError, ConcurrencyError, GoneError, UnprocessableError } from './errors.js';

/** The one service the broker offers; a fixed id so platforms keep their registrations across restarts. */
export const PKS_SERVICE_ID = '2f8a6a8e-3f3b-4c1e-9a52-6d5b0c7e1a10';
export const PKS_SERVICE_NAME = 'pks';

/**
 * Where the broker reads the cluster CA for kubeconfigs: the Director's config server holds `kubo_ca`
 * (ODB's `resolve_secrets_at_bind`, CredHub on a real BOSH).
 */
export interface ClusterCaSource {
  clusterCa(deployment: string): Promise<string | undefined>;
}

/** `X-Broker-API-Originating-Identity`: the platform and its decoded JSON. */
export interface OriginatingIdentity {
  platform: string;
  value: Record<string, unknown>;
}

export interface RequestMeta {
  originatingIdentity?: OriginatingIdentity | undefined;
  requestIdentity?: string | undefined;
}

export const OperationType = {
  CREATE: 'create',
  UPDATE: 'update',
  DELETE: 'delete',
  UPGRADE: 'upgrade',
  RECREATE: 'recreate',
} as const;
export type OperationType = (typeof OperationType)[keyof typeof OperationType];

export const OperationState = {
  IN_PROGRESS: 'in progress',
  SUCCEEDED: 'succeeded',
  FAILED: 'failed',
} as const;
export type OperationState = (typeof OperationState)[keyof typeof OperationState];

/** ODB's operation string (`OperationData`), handed to the platform and sent back on polls. */
export interface OperationData {
  BoshTaskID: number;
  BoshContextID: string;
  OperationType: OperationType;
  PlanID: string;
  Errands?: { name: string }[];
}

type Step = { kind: 'deploy' } | { kind: 'errand'; name: string } | { kind: 'delete' };

interface NewOperation {
  id: string;
  instanceId: string;
  type: OperationType;
  planId: string;
  steps: Step[];
  requestHash: string | null;
  meta: RequestMeta;
}

interface OperationRow {
  id: string;
  instance_id: string;
  type: OperationType;
  plan_id: string;
  state: OperationState;
  description: string;
  steps: Step[];
  step: number;
  step_started_at: Date;
  first_task_id: number | null;
  request_hash: string | null;
  created_at: Date;
}

interface InstanceRow {
  id: string;
  service_id: string;
  plan_id: string;
  organization_guid: string | null;
  space_guid: string | null;
  parameters: Record<string, unknown>;
}

export interface LastOperation {
  state: OperationState;
  description: string;
  instanceUsable?: boolean;
  updateRepeatable?: boolean;
}

export type ProvisionOutcome =
  | { outcome: 'accepted'; operation: string; dashboardUrl?: string | undefined }
  | { outcome: 'exists'; dashboardUrl?: string | undefined };
export type UpdateOutcome =
  { outcome: 'accepted'; operation: string; dashboardUrl?: string | undefined } | { outcome: 'unchanged' };
export type DeprovisionOutcome = { outcome: 'accepted'; operation: string } | { outcome: 'deleted' };
export type UpgradeOutcome = { outcome: 'accepted'; operation: OperationData } | { outcome: 'current' };

export interface BrokerServiceOptions {
  db: Database;
  director: DirectorClient;
  plans: readonly Plan[];
  oidc: OidcSettings;
  secrets: SecretBox;
  clusterCa: ClusterCaSource;
  /** PEM of the broker's client CA, which manifests give the apiserver (see `loadOrCreateClientCa`). */
  clientCa?: string | undefined;
  /** Checks that a bind request's id token was issued by UAA to pks_cluster_client for that user. */
  idTokenVerifier?: TokenVerifier | undefined;
  serviceDeployment?: ((instanceId: string) => ServiceDeployment) | undefined;
  resolves?: ((hostname: string) => Promise<boolean>) | undefined;
  logger: Logger;
  /** A step the broker claimed but never saw at the Director is started again after this long. */
  stepRetryMs?: number;
}

const DESCRIPTIONS: Record<OperationType, { running: string; done: string; failed: string }> = {
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

/** JSON with sorted keys: equal requests hash equal whatever order the platform wrote them in. */
export function stableJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${stableJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value ?? null);
}

function requireString(body: Record<string, unknown>, field: string): string {
  const value = body[field];
  if (typeof value !== 'string' || value === '') throw new InputError(field, `${field} is required`);
  return value;
}

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * What makes two updates the same request. Counted: what the update asks for — the plan, the parameters,
 * `maintenance_info` (an upgrade is an update with it) and `context` (a platform may send an update that
 * only changes the context). Not counted: `previous_values`, the platform's view of the instance before
 * the request, which describes no change; and the originating identity, which says who asked, not what
 * (a platform re-sending a request for another user sends the same request). An absent `plan_id` or
 * `parameters` means the current plan and no parameter changes, as OSB reads them.
 */
function updateRequestHash(body: Record<string, unknown>, planId: string): string {
  return stableJson({
    service_id: body.service_id,
    plan_id: planId,
    parameters: isObject(body.parameters) ? body.parameters : {},
    maintenance_info: body.maintenance_info ?? null,
    context: body.context ?? null,
  });
}

/** How long a repeated request waits for the original to record its first Director task. */
const FIRST_TASK_WAIT_MS = 5_000;

/** Adapter rejections that are unsupported changes rather than malformed input (OSB 422 on update). */
const UNSUPPORTED_CHANGE_FIELDS = new Set([
  'plan_id',
  'plan.master.instances',
  'kubernetes_master_instances',
]);

/**
 * The broker's decisions: OSB semantics over the service adapter and the Director. Knows no HTTP; the
 * OSB and management routes translate its outcomes and typed errors.
 */
export class BrokerService {
  readonly #db: Database;
  readonly #director: DirectorClient;
  readonly #options: BrokerServiceOptions;

  constructor(options: BrokerServiceOptions) {
    this.#options = options;
    this.#db = options.db;
    this.#director = options.director;
  }

  get director(): DirectorClient {
    return this.#director;
  }

  #plan(id: string): Plan {
    const plan = this.#options.plans.find((p) => p.id === id);
    if (plan === undefined) throw new InputError('plan_id', `plan ${id} not found`);
    return plan;
  }

  #odbPlan(id: string): OdbPlan {
    return odbPlanOf(this.#plan(id), this.#options.oidc, this.#options.clientCa);
  }

  #serviceDeployment(instanceId: string): ServiceDeployment {
    return (this.#options.serviceDeployment ?? defaultServiceDeployment)(instanceId);
  }

  catalog(): Record<string, unknown> {
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
          plans: this.#options.plans
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
              schemas: generatePlanSchemas(odbPlanOf(plan, this.#options.oidc)),
            })),
        },
      ],
    };
  }

  // ---- provision ---------------------------------------------------------------------------------

  async provision(
    instanceId: string,
    body: Record<string, unknown>,
    acceptsIncomplete: boolean,
    meta: RequestMeta,
  ): Promise<ProvisionOutcome> {
    const serviceId = requireString(body, 'service_id');
    const planId = requireString(body, 'plan_id');
    requireString(body, 'organization_guid');
    requireString(body, 'space_guid');
    if (serviceId !== PKS_SERVICE_ID) throw new InputError('service_id', `service ${serviceId} not found`);
    const plan = this.#plan(planId);
    if (!acceptsIncomplete) throw new AsyncRequiredError();
    const parameters = isObject(body.parameters) ? body.parameters : {};
    const requestHash = stableJson({
      service_id: serviceId,
      plan_id: planId,
      organization_guid: body.organization_guid,
      space_guid: body.space_guid,
      parameters,
    });

    const repeat = await this.#repeatedProvision(instanceId, requestHash);
    if (repeat !== undefined) return repeat;

    const manifest = generateManifest({
      serviceDeployment: this.#serviceDeployment(instanceId),
      plan: odbPlanOf(plan, this.#options.oidc, this.#options.clientCa),
      requestParams: body as RequestParameters,
    }).manifest;
    const deployment = deploymentNameOf(instanceId);
    if ((await this.#director.manifest(deployment)) !== undefined) {
      throw new ConflictError(`a deployment ${deployment} already exists at the Director`);
    }

    const operationId = randomUUID();
    try {
      await this.#db.transaction(async (tx) => {
        await tx.query(
          `INSERT INTO broker.instances (id, service_id, plan_id, organization_guid, space_guid, context, parameters)
           VALUES ($1, $2, $3, $4, $5, $6, $7)`,
          [
            instanceId,
            serviceId,
            planId,
            body.organization_guid,
            body.space_guid,
            JSON.stringify(body.context ?? null),
            JSON.stringify(parameters),
          ],
        );
        await this.#insertOperation(tx, {
          id: operationId,
          instanceId,
          type: OperationType.CREATE,
          planId,
          steps: [{ kind: 'deploy' }, { kind: 'errand', name: POST_DEPLOY_ERRAND }],
          requestHash,
          meta,
        });
      });
    } catch (error) {
      if (sqlStateOf(error) === SqlState.UNIQUE_VIOLATION) {
        // Another request for the same id won the race: answer as its repeat would be answered.
        const again = await this.#repeatedProvision(instanceId, requestHash);
        if (again !== undefined) return again;
      }
      throw error;
    }
    const task = await this.#deploy(operationId, manifest, {});
    return {
      outcome: 'accepted',
      operation: this.#operationString(operationId, task.id, OperationType.CREATE, planId),
      dashboardUrl: this.#dashboard(instanceId, planId, manifest),
    };
  }

  async #repeatedProvision(instanceId: string, requestHash: string): Promise<ProvisionOutcome | undefined> {
    const instance = await this.#instance(instanceId);
    if (instance === undefined) return undefined;
    const create = await this.#latestOperation(instanceId, OperationType.CREATE);
    if (create === undefined || create.request_hash !== requestHash) {
      throw new ConflictError(`service instance ${instanceId} already exists with different attributes`);
    }
    const current = await this.#advance(create);
    // A PUT re-sent while provisioning runs gets 202 again (OSB), never 200.
    if (current.state === OperationState.IN_PROGRESS) {
      return { outcome: 'accepted', operation: await this.#originalOperationString(current) };
    }
    return { outcome: 'exists' };
  }

  // ---- update and upgrade --------------------------------------------------------------------------

  async update(
    instanceId: string,
    body: Record<string, unknown>,
    acceptsIncomplete: boolean,
    meta: RequestMeta,
  ): Promise<UpdateOutcome> {
    const serviceId = requireString(body, 'service_id');
    if (serviceId !== PKS_SERVICE_ID) throw new InputError('service_id', `service ${serviceId} not found`);
    if (!acceptsIncomplete) throw new AsyncRequiredError();
    const instance = await this.requireInstance(instanceId);
    const planId = typeof body.plan_id === 'string' ? body.plan_id : instance.plan_id;
    if (planId !== instance.plan_id) {
      const from = this.#options.plans.find((p) => p.id === instance.plan_id)?.name ?? instance.plan_id;
      const to = this.#options.plans.find((p) => p.id === planId)?.name ?? planId;
      throw new UnprocessableError(
        'plan_id',
        `A cluster cannot change plans: it was created with plan ${from}, the request asks for ${to}`,
      );
    }
    const requestHash = updateRequestHash(body, planId);
    const repeat = await this.#repeatedUpdate(instanceId, requestHash);
    if (repeat !== undefined) return repeat;
    try {
      return await this.#startUpdate(instanceId, planId, body, requestHash, meta);
    } catch (error) {
      // An identical request won the race to start the update: answer as its repeat is answered.
      if (error instanceof ConcurrencyError) {
        const again = await this.#repeatedUpdate(instanceId, requestHash);
        if (again !== undefined) return again;
      }
      throw error;
    }
  }

  async #startUpdate(
    instanceId: string,
    planId: string,
    body: Record<string, unknown>,
    requestHash: string,
    meta: RequestMeta,
  ): Promise<UpdateOutcome> {
    await this.requireIdle(instanceId);
    const deployment = deploymentNameOf(instanceId);
    const previous = await this.#director.manifest(deployment);
    if (previous === undefined) throw new NotFoundError(`service instance ${instanceId} has no deployment`);
    const requestParams = { ...body, plan_id: planId } as RequestParameters;
    const manifest = this.#render(instanceId, planId, requestParams, previous);
    if (isDeepStrictEqual(parse(manifest), parse(previous))) return { outcome: 'unchanged' };
    const operationId = randomUUID();
    await this.#insertOperationOrBusy({
      id: operationId,
      instanceId,
      type: OperationType.UPDATE,
      planId,
      steps: [{ kind: 'deploy' }, { kind: 'errand', name: POST_DEPLOY_ERRAND }],
      requestHash,
      meta,
    });
    const task = await this.#deploy(operationId, manifest, {});
    return {
      outcome: 'accepted',
      operation: this.#operationString(operationId, task.id, OperationType.UPDATE, planId),
      dashboardUrl: this.#dashboard(instanceId, planId, manifest),
    };
  }

  /**
   * OSB: a PATCH re-sent while the update it started runs gets 202 with the original `operation`, not a
   * 422, so that a platform that timed out or crashed before hearing the answer can ask again. Once the
   * update has finished the repeat is an update of its own: 200 when its changes are in place.
   */
  async #repeatedUpdate(instanceId: string, requestHash: string): Promise<UpdateOutcome | undefined> {
    const running = await this.#runningOperation(instanceId);
    if (running?.type !== OperationType.UPDATE || running.request_hash !== requestHash) return undefined;
    const manifest = await this.#director.manifest(deploymentNameOf(instanceId));
    return {
      outcome: 'accepted',
      operation: await this.#originalOperationString(running),
      dashboardUrl:
        manifest === undefined ? undefined : this.#dashboard(instanceId, running.plan_id, manifest),
    };
  }

  /**
   * `PATCH /mgmt/service_instances/:id?operation_type=upgrade|recreate`: re-renders the manifest with no
   * request parameters (everything carried over) against the current plan and deploys it.
   */
  async upgrade(
    instanceId: string,
    type: 'upgrade' | 'recreate',
    meta: RequestMeta = {},
  ): Promise<UpgradeOutcome> {
    const deployment = deploymentNameOf(instanceId);
    const instance = await this.#instance(instanceId);
    const previous = await this.#director.manifest(deployment);
    if (instance === undefined) {
      if (previous !== undefined)
        throw new GoneError(`deployment ${deployment} is an orphan: no such service instance`);
      throw new NotFoundError(`service instance ${instanceId} not found`);
    }
    if (previous === undefined) throw new NotFoundError(`service instance ${instanceId} has no deployment`);
    await this.requireIdle(instanceId);
    const manifest = this.#render(instanceId, instance.plan_id, null, previous);
    if (type === 'upgrade' && isDeepStrictEqual(parse(manifest), parse(previous)))
      return { outcome: 'current' };
    const operationId = randomUUID();
    await this.#insertOperationOrBusy({
      id: operationId,
      instanceId,
      type,
      planId: instance.plan_id,
      steps: [{ kind: 'deploy' }, { kind: 'errand', name: POST_DEPLOY_ERRAND }],
      requestHash: null,
      meta,
    });
    const task = await this.#deploy(operationId, manifest, { recreate: type === 'recreate' });
    return {
      outcome: 'accepted',
      operation: this.#operationData(operationId, task.id, type, instance.plan_id),
    };
  }

  #render(
    instanceId: string,
    planId: string,
    requestParams: RequestParameters | null,
    previous: string,
  ): string {
    const plan = this.#odbPlan(planId);
    try {
      return generateManifest({
        serviceDeployment: this.#serviceDeployment(instanceId),
        plan,
        requestParams,
        previousManifest: previous,
        previousPlan: plan,
      }).manifest;
    } catch (error) {
      if (
        error instanceof InputError &&
        error.field !== undefined &&
        UNSUPPORTED_CHANGE_FIELDS.has(error.field)
      ) {
        throw new UnprocessableError(error.field, error.message);
      }
      throw error;
    }
  }

  // ---- deprovision ---------------------------------------------------------------------------------

  async deprovision(
    instanceId: string,
    query: { serviceId?: string | undefined; planId?: string | undefined },
    acceptsIncomplete: boolean,
    meta: RequestMeta,
  ): Promise<DeprovisionOutcome> {
    if (!query.serviceId) throw new InputError('service_id', 'service_id is required');
    if (!query.planId) throw new InputError('plan_id', 'plan_id is required');
    const instance = await this.#instance(instanceId);
    if (instance === undefined) throw new GoneError(`service instance ${instanceId} does not exist`);
    if (!acceptsIncomplete) throw new AsyncRequiredError();
    const repeat = await this.#repeatedDeprovision(instanceId);
    if (repeat !== undefined) return repeat;
    const deployment = deploymentNameOf(instanceId);
    const manifest = await this.#director.manifest(deployment);
    if (manifest === undefined) {
      // Nothing was deployed (a failed create): forgetting the instance is the whole deletion.
      await this.#forget(instanceId);
      return { outcome: 'deleted' };
    }
    const hasDrain = (parse(manifest) as { instance_groups?: { name: string }[] }).instance_groups?.some(
      (g) => g.name === PRE_DELETE_ERRAND,
    );
    const steps: Step[] = hasDrain
      ? [{ kind: 'errand', name: PRE_DELETE_ERRAND }, { kind: 'delete' }]
      : [{ kind: 'delete' }];
    const operationId = randomUUID();
    try {
      await this.#insertOperationOrBusy({
        id: operationId,
        instanceId,
        type: OperationType.DELETE,
        planId: instance.plan_id,
        steps,
        requestHash: null,
        meta,
      });
    } catch (error) {
      // Another DELETE won the race: answer as its repeat is answered.
      if (error instanceof ConcurrencyError) {
        const again = await this.#repeatedDeprovision(instanceId);
        if (again !== undefined) return again;
      }
      throw error;
    }
    const task = await this.#startStep(operationId, instanceId, steps[0]!);
    await this.#db.query('UPDATE broker.operations SET first_task_id = $2, step = 1 WHERE id = $1', [
      operationId,
      task.id,
    ]);
    return {
      outcome: 'accepted',
      operation: this.#operationString(operationId, task.id, OperationType.DELETE, instance.plan_id),
    };
  }

  /** A DELETE while the deletion runs gets 202 with its operation (a DELETE has no body to differ by). */
  async #repeatedDeprovision(instanceId: string): Promise<DeprovisionOutcome | undefined> {
    const running = await this.#runningOperation(instanceId);
    if (running === undefined) return undefined;
    if (running.type !== OperationType.DELETE) throw new ConcurrencyError();
    return { outcome: 'accepted', operation: await this.#originalOperationString(running) };
  }

  // ---- last operation and instance ---------------------------------------------------------------

  async lastOperation(instanceId: string, operation: string | undefined): Promise<LastOperation> {
    let row: OperationRow | undefined;
    let data: Partial<OperationData> = {};
    if (operation !== undefined && operation !== '') {
      try {
        data = JSON.parse(operation) as Partial<OperationData>;
      } catch {
        throw new InputError('operation', 'operation is not one this broker issued');
      }
      if (typeof data.BoshContextID === 'string') row = await this.#operation(data.BoshContextID);
      if (row !== undefined && row.instance_id !== instanceId) row = undefined;
    } else {
      row = await this.#latestOperation(instanceId);
    }
    if (row === undefined) {
      const instance = await this.#instance(instanceId);
      if (instance === undefined && data.OperationType === OperationType.DELETE) {
        throw new GoneError(`service instance ${instanceId} is gone`);
      }
      throw new NotFoundError(`no such operation for service instance ${instanceId}`);
    }
    const current = await this.#advance(row);
    const result: LastOperation = { state: current.state, description: current.description };
    if (current.state === OperationState.FAILED && current.type !== OperationType.CREATE) {
      result.instanceUsable = true;
      result.updateRepeatable = current.type !== OperationType.DELETE;
    }
    return result;
  }

  /** The latest operation's outcome, driven forward (management and the upgrade runner poll this). */
  async operationState(operationId: string): Promise<LastOperation | undefined> {
    const row = await this.#operation(operationId);
    if (row === undefined) return undefined;
    const current = await this.#advance(row);
    return { state: current.state, description: current.description };
  }

  async getInstance(instanceId: string): Promise<Record<string, unknown>> {
    const instance = await this.requireInstance(instanceId);
    const latest = await this.#latestOperation(instanceId);
    const current = latest === undefined ? undefined : await this.#advance(latest);
    if (current?.state === OperationState.IN_PROGRESS) {
      if (current.type === OperationType.CREATE)
        throw new NotFoundError(`service instance ${instanceId} is still being provisioned`);
      throw new ConcurrencyError();
    }
    const manifest = await this.#director.manifest(deploymentNameOf(instanceId));
    if (manifest === undefined) throw new NotFoundError(`service instance ${instanceId} has no deployment`);
    const settings = settingsFromManifest(parse(manifest) as Record<string, unknown>);
    return {
      service_id: instance.service_id,
      plan_id: instance.plan_id,
      dashboard_url: this.#dashboard(instanceId, instance.plan_id, manifest),
      parameters: {
        kubernetes_master_host: settings.masterHost,
        kubernetes_master_port: settings.masterPort,
        kubernetes_worker_instances: settings.workerInstances,
        authorization_mode: settings.authorizationMode,
        ...(settings.networkProfile !== undefined ? { nsxt_network_profile: settings.networkProfile } : {}),
        ...(Object.keys(settings.drainOverrides ?? {}).length > 0
          ? { kubernetes_setting_cluster_details: settings.drainOverrides }
          : {}),
      },
    };
  }

  // ---- management --------------------------------------------------------------------------------

  async listInstances(): Promise<{ service_instance_id: string; plan_id: string }[]> {
    const { rows } = await this.#db.query<{ id: string; plan_id: string }>(
      'SELECT id, plan_id FROM broker.instances ORDER BY created_at, id',
    );
    return rows.map((row) => ({ service_instance_id: row.id, plan_id: row.plan_id }));
  }

  async orphanDeployments(): Promise<{ deployment_name: string }[]> {
    const deployments = await this.#director.deployments();
    const known = new Set((await this.listInstances()).map((i) => deploymentNameOf(i.service_instance_id)));
    return deployments
      .filter((d) => d.name.startsWith(DEPLOYMENT_PREFIX) && !known.has(d.name))
      .map((d) => ({ deployment_name: d.name }));
  }

  // ---- internals ---------------------------------------------------------------------------------

  #dashboard(instanceId: string, planId: string, manifest: string): string | undefined {
    try {
      return dashboardUrl({ instanceId, plan: this.#odbPlan(planId), manifest });
    } catch {
      return undefined;
    }
  }

  #operationData(id: string, taskId: number, type: OperationType, planId: string): OperationData {
    const errands =
      type === OperationType.DELETE ? [{ name: PRE_DELETE_ERRAND }] : [{ name: POST_DEPLOY_ERRAND }];
    return { BoshTaskID: taskId, BoshContextID: id, OperationType: type, PlanID: planId, Errands: errands };
  }

  #operationString(id: string, taskId: number, type: OperationType, planId: string): string {
    return JSON.stringify(this.#operationData(id, taskId, type, planId));
  }

  /**
   * The `operation` string the original request was answered with. It names the operation's first task,
   * which the original request records right after the Director accepts it: a repeat that arrives in
   * between waits for it (briefly; a broker that died there leaves none, and the operation fails on its
   * own once its step is overdue).
   */
  async #originalOperationString(op: OperationRow): Promise<string> {
    let current = op;
    for (let waited = 0; current.first_task_id === null && waited < FIRST_TASK_WAIT_MS; waited += 50) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      const row = await this.#operation(op.id);
      if (row === undefined || row.state !== OperationState.IN_PROGRESS) break;
      current = row;
    }
    return this.#operationString(current.id, current.first_task_id ?? 0, current.type, current.plan_id);
  }

  async #deploy(
    operationId: string,
    manifest: string,
    options: { recreate?: boolean },
  ): Promise<DirectorTask> {
    try {
      const task = await this.#director.deploy(manifest, { contextId: operationId, ...options });
      await this.#db.query(
        'UPDATE broker.operations SET first_task_id = $2, step = 1, step_started_at = now() WHERE id = $1',
        [operationId, task.id],
      );
      return task;
    } catch (error) {
      await this.#finish(
        operationId,
        OperationState.FAILED,
        `The Director did not accept the deployment: ${(error as Error).message}`,
      );
      throw error;
    }
  }

  async #startStep(operationId: string, instanceId: string, step: Step): Promise<DirectorTask> {
    const deployment = deploymentNameOf(instanceId);
    switch (step.kind) {
      case 'errand':
        return this.#director.runErrand(deployment, step.name, { contextId: operationId });
      case 'delete':
        return this.#director.deleteDeployment(deployment, { contextId: operationId });
      case 'deploy':
        throw new InternalError('a deploy is only ever the first step of an operation');
    }
  }

  /**
   * Brings an operation up to date from the Director: its tasks are found by context id, the next step
   * (a lifecycle errand, or the deletion after the drain) is started when the previous one is done, and
   * the operation ends when the last step has. Safe to call from any replica, any number of times.
   */
  async #advance(op: OperationRow): Promise<OperationRow> {
    if (op.state !== OperationState.IN_PROGRESS) return op;
    const deployment = deploymentNameOf(op.instance_id);
    const tasks = (await this.#director.tasks({ deployment, contextId: op.id, verbose: 2, limit: 100 }))
      .filter((t) => t.context_id === op.id)
      .sort((a, b) => a.id - b.id);
    const words = DESCRIPTIONS[op.type];
    const latest = tasks.at(-1);
    if (latest === undefined) {
      if (Date.now() - op.step_started_at.getTime() > (this.#options.stepRetryMs ?? 30_000)) {
        return this.#finish(op.id, OperationState.FAILED, `${words.failed}: the Director has no task for it`);
      }
      return op;
    }
    if (ACTIVE_TASK_STATES.includes(latest.state)) return { ...op, description: words.running };
    const step = op.steps[tasks.length - 1];
    if (latest.state !== 'done') {
      return this.#finish(
        op.id,
        OperationState.FAILED,
        `${words.failed}: ${latest.result ?? `task ${latest.id} ${latest.state}`}`,
      );
    }
    const errored = step?.kind === 'errand' ? Number(/(\d+) errored/.exec(latest.result ?? '')?.[1] ?? 0) : 0;
    if (errored > 0) {
      return this.#finish(
        op.id,
        OperationState.FAILED,
        `${words.failed}: errand ${step?.kind === 'errand' ? step.name : ''} failed (task ${latest.id})`,
      );
    }
    if (tasks.length >= op.steps.length) {
      if (op.type === OperationType.DELETE) await this.#forget(op.instance_id);
      return this.#finish(op.id, OperationState.SUCCEEDED, words.done);
    }
    // Claim the next step so that concurrent pollers start it once; a claim whose task never showed up
    // at the Director (the broker died in between) is claimed again after a while.
    const next = tasks.length;
    const claimed = await this.#db.query(
      `UPDATE broker.operations SET step = $2 + 1, step_started_at = now()
       WHERE id = $1 AND state = 'in progress'
         AND (step <= $2 OR step_started_at < now() - $3::float8 * interval '1 millisecond')`,
      [op.id, next, this.#options.stepRetryMs ?? 30_000],
    );
    if (claimed.rowCount === 1) {
      try {
        await this.#startStep(op.id, op.instance_id, op.steps[next]!);
      } catch (error) {
        return this.#finish(op.id, OperationState.FAILED, `${words.failed}: ${(error as Error).message}`);
      }
    }
    return { ...op, description: words.running };
  }

  async #finish(operationId: string, state: OperationState, description: string): Promise<OperationRow> {
    const { rows } = await this.#db.query<OperationRow>(
      `UPDATE broker.operations SET state = $2, description = $3, finished_at = now()
       WHERE id = $1 AND state = 'in progress' RETURNING *`,
      [operationId, state, description],
    );
    if (rows[0] !== undefined) {
      this.#options.logger.info({ operation: operationId, state, description }, 'operation finished');
      return rows[0];
    }
    const current = await this.#operation(operationId);
    if (current === undefined) throw new InternalError(`operation ${operationId} vanished`);
    return current;
  }

  async #forget(instanceId: string): Promise<void> {
    await this.#db.transaction(async (tx) => {
      await tx.query('DELETE FROM broker.bindings WHERE instance_id = $1', [instanceId]);
      await tx.query('DELETE FROM broker.instances WHERE id = $1', [instanceId]);
    });
  }

  async #insertOperation(db: Queryable, op: NewOperation): Promise<void> {
    await db.query(
      `INSERT INTO broker.operations (id, instance_id, type, plan_id, state, description, steps, request_hash,
         originating_identity, request_identity)
       VALUES ($1, $2, $3, $4, 'in progress', $5, $6, $7, $8, $9)`,
      [
        op.id,
        op.instanceId,
        op.type,
        op.planId,
        DESCRIPTIONS[op.type].running,
        JSON.stringify(op.steps),
        op.requestHash,
        JSON.stringify(op.meta.originatingIdentity ?? null),
        op.meta.requestIdentity ?? null,
      ],
    );
  }

  async #insertOperationOrBusy(op: NewOperation): Promise<void> {
    try {
      await this.#insertOperation(this.#db, op);
    } catch (error) {
      if (sqlStateOf(error) === SqlState.UNIQUE_VIOLATION) throw new ConcurrencyError();
      throw error;
    }
  }

  /** Refuses while an operation of ours runs on the instance, or any task of the Director's on its deployment. */
  async requireIdle(instanceId: string): Promise<void> {
    if ((await this.#runningOperation(instanceId)) !== undefined) throw new ConcurrencyError();
    const active = await this.#director.tasks({
      deployment: deploymentNameOf(instanceId),
      states: [...ACTIVE_TASK_STATES],
      verbose: 2,
    });
    if (active.length > 0) throw new ConcurrencyError();
  }

  async #runningOperation(instanceId: string): Promise<OperationRow | undefined> {
    const { rows } = await this.#db.query<OperationRow>(
      `SELECT * FROM broker.operations WHERE instance_id = $1 AND state = 'in progress'`,
      [instanceId],
    );
    if (rows[0] === undefined) return undefined;
    const current = await this.#advance(rows[0]);
    return current.state === OperationState.IN_PROGRESS ? current : undefined;
  }

  async #latestOperation(instanceId: string, type?: OperationType): Promise<OperationRow | undefined> {
    const { rows } = await this.#db.query<OperationRow>(
      `SELECT * FROM broker.operations WHERE instance_id = $1 AND ($2::text IS NULL OR type = $2)
       ORDER BY created_at DESC, id LIMIT 1`,
      [instanceId, type ?? null],
    );
    return rows[0];
  }

  async #operation(id: string): Promise<OperationRow | undefined> {
    const { rows } = await this.#db.query<OperationRow>('SELECT * FROM broker.operations WHERE id = $1', [
      id,
    ]);
    return rows[0];
  }

  async #instance(id: string): Promise<InstanceRow | undefined> {
    const { rows } = await this.#db.query<InstanceRow>('SELECT * FROM broker.instances WHERE id = $1', [id]);
    return rows[0];
  }

  async requireInstance(id: string): Promise<InstanceRow> {
    const instance = await this.#instance(id);
    if (instance === undefined) throw new NotFoundError(`service instance ${id} not found`);
    return instance;
  }
}
