import { randomUUID } from 'node:crypto';
import { isDeepStrictEqual } from 'node:util';
import { parse } from 'yaml';
import type { TokenVerifier } from '@openpks/auth';
import type { DirectorClient, DirectorTask } from '@openpks/bosh';
import { ACTIVE_TASK_STATES } from '@openpks/bosh';
import { SqlState, sqlStateOf, type Database } from '@openpks/db';
import { ConflictError, InputError, NotFoundError, isPksError, type Plan } from '@openpks/domain';
import type { SecretBox } from '@openpks/pki';
import type { Logger } from '@openpks/role';
import { dashboardUrl, dashboardUrlOf } from '../adapter/binding.js';
import {
  generateCluster,
  settingsFromManifest,
  type ClusterSettings,
  type GeneratedCluster,
} from '../adapter/manifest.js';
import { PRE_DELETE_ERRAND, defaultServiceDeployment, odbPlanOf } from '../adapter/plan.js';
import type { OdbPlan, OidcSettings, RequestParameters, ServiceDeployment } from '../adapter/types.js';
import { DEPLOYMENT_PREFIX, deploymentNameOf } from '../contract/deployment.js';
import {
  OperationState,
  OperationType,
  operationStringOf,
  parseOperationData,
  type OperationData,
} from '../contract/operationData.js';
import type { OriginatingIdentity } from '../contract/osb.js';
import type { OperationDriver } from '../operations/operationDriver.js';
import { DEPLOY_STEPS, DESCRIPTIONS, deleteSteps, errandsOf, type Step } from '../operations/steps.js';
import { instanceStore, type InstanceRow } from '../store/instanceStore.js';
import { operationStore, type OperationRow } from '../store/operationStore.js';
import { PKS_SERVICE_ID, brokerCatalog } from './catalog.js';
import { AsyncRequiredError, ConcurrencyError, GoneError, UnprocessableError } from './errors.js';
import { isObject, provisionRequestHash, requireString, updateRequestHash } from './requests.js';

/**
 * Where the broker reads the cluster CA for kubeconfigs: the Director's config server holds `kubo_ca`
 * (ODB's `resolve_secrets_at_bind`, CredHub on a real BOSH).
 */
export interface ClusterCaSource {
  clusterCa(deployment: string): Promise<string | undefined>;
}

/** Who asked and the platform's request id, as the OSB headers carry them. */
export interface RequestMeta {
  originatingIdentity?: OriginatingIdentity | undefined;
  requestIdentity?: string | undefined;
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
  /** Drives every operation after its request has started it (`OperationDriver`). */
  driver: OperationDriver;
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
 * The broker's decisions on service instances: OSB provision, update, deprovision, `last_operation` and
 * fetch, and the management API's upgrade, list and orphans, over the service adapter and the Director.
 * A request starts its operation's first Director task and hands the operation to the `OperationDriver`,
 * which carries it to its end. Knows no HTTP; the OSB and management routes translate its outcomes and
 * typed errors.
 */
export class BrokerService {
  readonly #db: Database;
  readonly #director: DirectorClient;
  readonly #driver: OperationDriver;
  readonly #options: BrokerServiceOptions;

  constructor(options: BrokerServiceOptions) {
    this.#options = options;
    this.#db = options.db;
    this.#director = options.director;
    this.#driver = options.driver;
  }

  get director(): DirectorClient {
    return this.#director;
  }

  catalog(): Record<string, unknown> {
    return brokerCatalog(this.#options.plans, this.#options.oidc);
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
    const requestHash = provisionRequestHash(body);

    const repeat = await this.#repeatedProvision(instanceId, requestHash);
    if (repeat !== undefined) return repeat;

    const generated = generateCluster({
      serviceDeployment: this.#serviceDeployment(instanceId),
      plan: odbPlanOf(plan, this.#options.oidc, this.#options.clientCa),
      requestParams: body as RequestParameters,
    });
    const { manifest } = generated;
    const deployment = deploymentNameOf(instanceId);
    if ((await this.#director.manifest(deployment)) !== undefined) {
      throw new ConflictError(`a deployment ${deployment} already exists at the Director`);
    }

    const operationId = randomUUID();
    try {
      await this.#db.transaction(async (tx) => {
        await instanceStore.insert(tx, {
          id: instanceId,
          serviceId,
          planId,
          organizationGuid: body.organization_guid,
          spaceGuid: body.space_guid,
          context: body.context,
          parameters,
        });
        await operationStore.insert(
          tx,
          this.#newOperation(
            operationId,
            instanceId,
            OperationType.CREATE,
            planId,
            DEPLOY_STEPS,
            requestHash,
            meta,
          ),
        );
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
      // From the settings the manifest was made of, not by parsing it back.
      dashboardUrl: dashboardOf(instanceId, generated.settings),
    };
  }

  async #repeatedProvision(instanceId: string, requestHash: string): Promise<ProvisionOutcome | undefined> {
    const instance = await instanceStore.get(this.#db, instanceId);
    if (instance === undefined) return undefined;
    const create = await operationStore.latest(this.#db, instanceId, OperationType.CREATE);
    if (create === undefined || create.request_hash !== requestHash) {
      throw new ConflictError(`service instance ${instanceId} already exists with different attributes`);
    }
    // A PUT re-sent while provisioning runs gets 202 again (OSB), never 200.
    if (create.state === OperationState.IN_PROGRESS) {
      return { outcome: 'accepted', operation: await this.#originalOperationString(create) };
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
    const generated = this.#render(instanceId, planId, requestParams, previous);
    const { manifest } = generated;
    if (unchanged(generated, previous)) return { outcome: 'unchanged' };
    const operationId = randomUUID();
    await this.#insertOperationOrBusy(
      this.#newOperation(
        operationId,
        instanceId,
        OperationType.UPDATE,
        planId,
        DEPLOY_STEPS,
        requestHash,
        meta,
      ),
    );
    const task = await this.#deploy(operationId, manifest, {});
    return {
      outcome: 'accepted',
      operation: this.#operationString(operationId, task.id, OperationType.UPDATE, planId),
      dashboardUrl: dashboardOf(instanceId, generated.settings),
    };
  }

  /**
   * OSB: a PATCH re-sent while the update it started runs gets 202 with the original `operation`, not a
   * 422, so that a platform that timed out or crashed before hearing the answer can ask again. Once the
   * update has finished the repeat is an update of its own: 200 when its changes are in place.
   */
  async #repeatedUpdate(instanceId: string, requestHash: string): Promise<UpdateOutcome | undefined> {
    const running = await operationStore.running(this.#db, instanceId);
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
    const instance = await instanceStore.get(this.#db, instanceId);
    const previous = await this.#director.manifest(deployment);
    if (instance === undefined) {
      if (previous !== undefined)
        throw new GoneError(`deployment ${deployment} is an orphan: no such service instance`);
      throw new NotFoundError(`service instance ${instanceId} not found`);
    }
    if (previous === undefined) throw new NotFoundError(`service instance ${instanceId} has no deployment`);
    await this.requireIdle(instanceId);
    const generated = this.#render(instanceId, instance.plan_id, null, previous);
    const { manifest } = generated;
    if (type === 'upgrade' && unchanged(generated, previous)) return { outcome: 'current' };
    const operationId = randomUUID();
    await this.#insertOperationOrBusy(
      this.#newOperation(operationId, instanceId, type, instance.plan_id, DEPLOY_STEPS, null, meta),
    );
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
  ): GeneratedCluster {
    const plan = this.#odbPlan(planId);
    try {
      return generateCluster({
        serviceDeployment: this.#serviceDeployment(instanceId),
        plan,
        requestParams,
        previousManifest: previous,
        previousPlan: plan,
      });
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
    const instance = await instanceStore.get(this.#db, instanceId);
    if (instance === undefined) throw new GoneError(`service instance ${instanceId} does not exist`);
    if (!acceptsIncomplete) throw new AsyncRequiredError();
    const repeat = await this.#repeatedDeprovision(instanceId);
    if (repeat !== undefined) return repeat;
    const deployment = deploymentNameOf(instanceId);
    const manifest = await this.#director.manifest(deployment);
    if (manifest === undefined) {
      // Nothing was deployed (a failed create): forgetting the instance is the whole deletion.
      await instanceStore.forget(this.#db, instanceId);
      return { outcome: 'deleted' };
    }
    const hasDrain = (parse(manifest) as { instance_groups?: { name: string }[] }).instance_groups?.some(
      (g) => g.name === PRE_DELETE_ERRAND,
    );
    const steps = deleteSteps(hasDrain === true);
    const operationId = randomUUID();
    try {
      await this.#insertOperationOrBusy(
        this.#newOperation(
          operationId,
          instanceId,
          OperationType.DELETE,
          instance.plan_id,
          steps,
          null,
          meta,
        ),
      );
    } catch (error) {
      // Another DELETE won the race: answer as its repeat is answered.
      if (error instanceof ConcurrencyError) {
        const again = await this.#repeatedDeprovision(instanceId);
        if (again !== undefined) return again;
      }
      throw error;
    }
    const first = steps[0]!;
    const task = await this.#driver.begin(operationId, async () => {
      try {
        const started =
          first.kind === 'errand'
            ? await this.#director.runErrand(deployment, first.name, { contextId: operationId })
            : await this.#director.deleteDeployment(deployment, { contextId: operationId });
        await operationStore.recordFirstTask(this.#db, operationId, started.id);
        return started;
      } catch (error) {
        // Refused: the deletion failed, and says why. No answer: the Director may have taken it; the
        // driver looks for its task (and fails the operation if none shows up).
        if (isPksError(error)) {
          await operationStore.finish(
            this.#db,
            operationId,
            this.#driver.holder,
            OperationState.FAILED,
            `${DESCRIPTIONS.delete.failed}: the Director did not accept the ${first.kind === 'errand' ? `${first.name} errand` : 'deletion'}: ${error.message}`,
          );
        }
        throw error;
      }
    });
    return {
      outcome: 'accepted',
      operation: this.#operationString(operationId, task.id, OperationType.DELETE, instance.plan_id),
    };
  }

  /** A DELETE while the deletion runs gets 202 with its operation (a DELETE has no body to differ by). */
  async #repeatedDeprovision(instanceId: string): Promise<DeprovisionOutcome | undefined> {
    const running = await operationStore.running(this.#db, instanceId);
    if (running === undefined) return undefined;
    if (running.type !== OperationType.DELETE) throw new ConcurrencyError();
    return { outcome: 'accepted', operation: await this.#originalOperationString(running) };
  }

  // ---- last operation and instance ---------------------------------------------------------------

  /**
   * `last_operation`, from the record. The driver moves operations on by itself; a poll asks it for a
   * fresh look first, so the answer reflects a Director task that has just ended.
   */
  async lastOperation(instanceId: string, operation: string | undefined): Promise<LastOperation> {
    let row: OperationRow | undefined;
    let fresh: OperationRow | undefined;
    let data: Partial<OperationData> = {};
    if (operation !== undefined && operation !== '') {
      const parsed = parseOperationData(operation);
      if (parsed === undefined) throw new InputError('operation', 'operation is not one this broker issued');
      data = parsed;
      if (data.BoshContextID !== undefined) {
        // An operation this replica drives is looked at now, and the look's row is the answer: one
        // fresh look, no reads of the record around it (a poll read it three times).
        fresh = await this.#driver.refresh(data.BoshContextID);
        row = fresh ?? (await operationStore.get(this.#db, data.BoshContextID));
      }
      if (row !== undefined && row.instance_id !== instanceId) row = undefined;
    } else {
      row = await operationStore.latest(this.#db, instanceId);
    }
    if (row === undefined) {
      const instance = await instanceStore.get(this.#db, instanceId);
      if (instance === undefined && data.OperationType === OperationType.DELETE) {
        throw new GoneError(`service instance ${instanceId} is gone`);
      }
      throw new NotFoundError(`no such operation for service instance ${instanceId}`);
    }
    const current = fresh ?? (await this.#fresh(row));
    const result: LastOperation = { state: current.state, description: current.description };
    if (current.state === OperationState.FAILED && current.type !== OperationType.CREATE) {
      result.instanceUsable = true;
      result.updateRepeatable = current.type !== OperationType.DELETE;
    }
    return result;
  }

  /** An operation's outcome as recorded (the upgrade runner follows its upgrades with this). */
  async operationState(operationId: string): Promise<LastOperation | undefined> {
    // One this replica drives is as its driver last left it (nobody else changes it meanwhile).
    const row = this.#driver.known(operationId) ?? (await operationStore.get(this.#db, operationId));
    if (row === undefined) return undefined;
    return { state: row.state, description: row.description };
  }

  async getInstance(instanceId: string): Promise<Record<string, unknown>> {
    const instance = await this.requireInstance(instanceId);
    const latest = await operationStore.latest(this.#db, instanceId);
    if (latest?.state === OperationState.IN_PROGRESS) {
      if (latest.type === OperationType.CREATE)
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
    return (await instanceStore.list(this.#db)).map((row) => ({
      service_instance_id: row.id,
      plan_id: row.plan_id,
    }));
  }

  async orphanDeployments(): Promise<{ deployment_name: string }[]> {
    const deployments = await this.#director.deployments();
    const known = new Set((await this.listInstances()).map((i) => deploymentNameOf(i.service_instance_id)));
    return deployments
      .filter((d) => d.name.startsWith(DEPLOYMENT_PREFIX) && !known.has(d.name))
      .map((d) => ({ deployment_name: d.name }));
  }

  /** Refuses while an operation of ours runs on the instance, or any task of the Director's on its deployment. */
  async requireIdle(instanceId: string): Promise<void> {
    if ((await operationStore.running(this.#db, instanceId)) !== undefined) throw new ConcurrencyError();
    const active = await this.#director.tasks({
      deployment: deploymentNameOf(instanceId),
      states: [...ACTIVE_TASK_STATES],
      verbose: 2,
    });
    if (active.length > 0) throw new ConcurrencyError();
  }

  async requireInstance(id: string): Promise<InstanceRow> {
    const instance = await instanceStore.get(this.#db, id);
    if (instance === undefined) throw new NotFoundError(`service instance ${id} not found`);
    return instance;
  }

  // ---- internals ---------------------------------------------------------------------------------

  /** The record after the driver's fresh look, when the operation was still running. */
  async #fresh(row: OperationRow): Promise<OperationRow> {
    if (row.state !== OperationState.IN_PROGRESS) return row;
    return (await this.#driver.nudge(row.id)) ?? (await operationStore.get(this.#db, row.id)) ?? row;
  }

  #dashboard(instanceId: string, planId: string, manifest: string): string | undefined {
    try {
      return dashboardUrl({ instanceId, plan: this.#odbPlan(planId), manifest });
    } catch {
      return undefined;
    }
  }

  #newOperation(
    id: string,
    instanceId: string,
    type: OperationType,
    planId: string,
    steps: readonly Step[],
    requestHash: string | null,
    meta: RequestMeta,
  ) {
    return {
      id,
      instanceId,
      type,
      planId,
      description: DESCRIPTIONS[type].running,
      steps,
      requestHash,
      originatingIdentity: meta.originatingIdentity,
      requestIdentity: meta.requestIdentity,
      lease: this.#driver.lease,
    };
  }

  #operationData(id: string, taskId: number, type: OperationType, planId: string): OperationData {
    return {
      BoshTaskID: taskId,
      BoshContextID: id,
      OperationType: type,
      PlanID: planId,
      Errands: errandsOf(type),
    };
  }

  #operationString(id: string, taskId: number, type: OperationType, planId: string): string {
    return operationStringOf(this.#operationData(id, taskId, type, planId));
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
      const row = await operationStore.get(this.#db, op.id);
      if (row === undefined || row.state !== OperationState.IN_PROGRESS) break;
      current = row;
    }
    return this.#operationString(current.id, current.first_task_id ?? 0, current.type, current.plan_id);
  }

  /** The request's first step, under the operation's lease; the driver takes the operation on from there. */
  async #deploy(
    operationId: string,
    manifest: string,
    options: { recreate?: boolean },
  ): Promise<DirectorTask> {
    return this.#driver.begin(operationId, async () => {
      try {
        const task = await this.#director.deploy(manifest, { contextId: operationId, ...options });
        await operationStore.recordFirstTask(this.#db, operationId, task.id);
        return task;
      } catch (error) {
        await operationStore.finish(
          this.#db,
          operationId,
          this.#driver.holder,
          OperationState.FAILED,
          `The Director did not accept the deployment: ${(error as Error).message}`,
        );
        throw error;
      }
    });
  }

  async #insertOperationOrBusy(op: Parameters<typeof operationStore.insert>[1]): Promise<void> {
    try {
      await operationStore.insert(this.#db, op);
    } catch (error) {
      if (sqlStateOf(error) === SqlState.UNIQUE_VIOLATION) throw new ConcurrencyError();
      throw error;
    }
  }
}

/**
 * Whether a re-rendered manifest deploys what is deployed: the same text (the common case, nothing parsed
 * again), or the same document once parsed (the previous one was parsed by the render already).
 */
function unchanged(generated: GeneratedCluster, previous: string): boolean {
  if (generated.manifest === previous) return true;
  return isDeepStrictEqual(parse(generated.manifest), generated.previous);
}

function dashboardOf(instanceId: string, settings: ClusterSettings): string | undefined {
  try {
    return dashboardUrlOf(instanceId, settings);
  } catch {
    return undefined;
  }
}
