import type { TokenVerifier } from '@openpks/auth';
import type { DirectorClient } from '@openpks/bosh';
import type { Database } from '@openpks/db';
import { InputError, InternalError, NotFoundError, ConflictError } from '@openpks/domain';
import type { CertificateAndKey, SecretBox } from '@openpks/pki';
import type { Logger } from '@openpks/role';
import { parse } from 'yaml';
import { bindingUserOf, createBinding, kubeClusterOf } from '../adapter/binding.js';
import type { BoshVms, RequestParameters } from '../adapter/types.js';
import { createCertificateBinding, revokeCertificateBinding } from '../bindings/certificateBinding.js';
import { KubeAdmin } from '../bindings/kubeAdmin.js';
import { deploymentNameOf } from '../contract/deployment.js';
import { bindingStore, type BindingRow } from '../store/bindingStore.js';
import type { ClusterCaSource, RequestMeta } from './brokerService.js';
import { GoneError, UnprocessableError } from './errors.js';
import { stableJson } from './requests.js';

/** What bindings need of the instance side: the instance must exist and have no operation running. */
export interface InstanceGuard {
  requireInstance(instanceId: string): Promise<unknown>;
  requireIdle(instanceId: string): Promise<void>;
}

export interface BindingServiceOptions {
  db: Database;
  director: DirectorClient;
  secrets: SecretBox;
  clusterCa: ClusterCaSource;
  /** The broker's client CA (`loadOrCreateClientCa`); without it only OIDC bindings are made. */
  clientCa?: CertificateAndKey | undefined;
  idTokenVerifier?: TokenVerifier | undefined;
  resolves?: ((hostname: string) => Promise<boolean>) | undefined;
  instances: InstanceGuard;
  logger: Logger;
}

export type BindOutcome = { outcome: 'created' | 'exists'; credentials: Record<string, unknown> };

type Obj = Record<string, unknown>;
const isObject = (value: unknown): value is Obj =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** The OIDC path is taken when the request carries parameters (the PKS API's user and tokens); none: a certificate. */
function wantsCertificate(body: Obj): boolean {
  return (
    body.parameters === undefined || (isObject(body.parameters) && Object.keys(body.parameters).length === 0)
  );
}

/**
 * Service bindings (OSB bind, fetch, unbind, binding last_operation). Two kinds: the PKS API's, whose
 * parameters carry the user's UAA tokens and become an OIDC kubeconfig (the adapter's create-binding), and a
 * generic platform's, with no parameters, which gets a client certificate let in by RBAC. Credentials are
 * sealed at rest, keyed by instance and binding.
 */
export class BindingService {
  constructor(private readonly options: BindingServiceOptions) {}

  async bind(instanceId: string, bindingId: string, body: Obj, meta: RequestMeta): Promise<BindOutcome> {
    const serviceId = body.service_id;
    const planId = body.plan_id;
    if (typeof serviceId !== 'string' || serviceId === '')
      throw new InputError('service_id', 'service_id is required');
    if (typeof planId !== 'string' || planId === '') throw new InputError('plan_id', 'plan_id is required');
    if (body.parameters !== undefined && !isObject(body.parameters)) {
      throw new InputError('parameters', 'parameters must be a JSON object');
    }
    await this.options.instances.requireInstance(instanceId);
    const requestHash = stableJson(body);
    const existing = await this.#binding(instanceId, bindingId);
    if (existing !== undefined) return this.#repeat(instanceId, bindingId, existing, requestHash);
    await this.options.instances.requireIdle(instanceId);
    const certificate = wantsCertificate(body);
    if (!certificate) await this.#verifyIdToken(body as RequestParameters);

    const deployment = deploymentNameOf(instanceId);
    const manifest = await this.options.director.manifest(deployment);
    if (manifest === undefined) throw new NotFoundError(`service instance ${instanceId} has no deployment`);
    const boshVms: BoshVms = {};
    for (const instance of await this.options.director.instances(deployment)) {
      (boshVms[instance.job] ??= []).push(...instance.ips);
    }
    const ca = await this.options.clusterCa.clusterCa(deployment);
    if (ca === undefined) throw new InternalError(`the cluster CA of ${deployment} is not available`);
    const secrets = { '((kubo_ca))': ca };

    let credentials: Obj;
    let kubeUser: string | null = null;
    if (certificate) {
      const clientCa = this.#clientCaTrustedBy(manifest);
      const { host, cluster } = await kubeClusterOf(
        { manifest, boshVms, secrets },
        { resolves: this.options.resolves },
      );
      const made = await createCertificateBinding({
        bindingId,
        name: host,
        cluster,
        clientCa,
        admin: this.#admin(cluster, ca, clientCa),
      });
      credentials = { kubeconfig: made.kubeconfig };
      kubeUser = made.user;
    } else {
      const binding = await createBinding(
        { bindingId, boshVms, manifest, requestParams: body as RequestParameters, secrets },
        { resolves: this.options.resolves },
      );
      credentials = binding.credentials;
    }

    const inserted = await bindingStore.insert(this.options.db, {
      instanceId,
      bindingId,
      requestHash,
      credentialsSealed: this.options.secrets.seal(
        JSON.stringify(credentials),
        sealContext(instanceId, bindingId),
      ),
      originatingIdentity: meta.originatingIdentity,
      kubeUser,
    });
    if (!inserted) {
      // Lost a race to an identical (or a conflicting) request: answer as its repeat would be answered.
      const winner = await this.#binding(instanceId, bindingId);
      if (winner === undefined) throw new ConflictError(`binding ${bindingId} is being changed; try again`);
      return this.#repeat(instanceId, bindingId, winner, requestHash);
    }
    this.options.logger.info(
      { instance: instanceId, binding: bindingId, kind: kubeUser === null ? 'oidc' : 'certificate' },
      'binding created',
    );
    return { outcome: 'created', credentials };
  }

  async getBinding(instanceId: string, bindingId: string): Promise<Obj> {
    const binding = await this.#binding(instanceId, bindingId);
    if (binding === undefined) throw new NotFoundError(`binding ${bindingId} not found`);
    return { credentials: this.#open(instanceId, bindingId, binding.credentials_sealed) };
  }

  /** Bindings are made synchronously: one that exists has succeeded. */
  async lastOperation(
    instanceId: string,
    bindingId: string,
  ): Promise<{ state: 'succeeded'; description: string }> {
    const binding = await this.#binding(instanceId, bindingId);
    if (binding === undefined) throw new NotFoundError(`binding ${bindingId} not found`);
    return { state: 'succeeded', description: 'Binding created' };
  }

  async unbind(
    instanceId: string,
    bindingId: string,
    query: { serviceId?: string | undefined; planId?: string | undefined },
  ): Promise<void> {
    if (!query.serviceId) throw new InputError('service_id', 'service_id is required');
    if (!query.planId) throw new InputError('plan_id', 'plan_id is required');
    const binding = await this.#binding(instanceId, bindingId);
    if (binding === undefined) throw new GoneError(`binding ${bindingId} does not exist`);
    // Access ends before the record does: a failed revocation leaves the binding for the platform to retry.
    if (binding.kube_user !== null) await this.#revoke(instanceId, binding.kube_user);
    if (!(await bindingStore.delete(this.options.db, instanceId, bindingId)))
      throw new GoneError(`binding ${bindingId} does not exist`);
    this.options.logger.info({ instance: instanceId, binding: bindingId }, 'binding deleted');
  }

  #repeat(instanceId: string, bindingId: string, existing: BindingRow, requestHash: string): BindOutcome {
    if (existing.request_hash !== requestHash) {
      throw new ConflictError(`binding ${bindingId} already exists with different parameters`);
    }
    return { outcome: 'exists', credentials: this.#open(instanceId, bindingId, existing.credentials_sealed) };
  }

  async #revoke(instanceId: string, user: string): Promise<void> {
    const deployment = deploymentNameOf(instanceId);
    const manifest = await this.options.director.manifest(deployment);
    // No deployment, no cluster: nothing is left that the certificate could open.
    if (manifest === undefined) return;
    const clientCa = this.#clientCaTrustedBy(manifest);
    const ca = await this.options.clusterCa.clusterCa(deployment);
    if (ca === undefined) throw new InternalError(`the cluster CA of ${deployment} is not available`);
    const boshVms: BoshVms = {};
    for (const instance of await this.options.director.instances(deployment)) {
      (boshVms[instance.job] ??= []).push(...instance.ips);
    }
    const { cluster } = await kubeClusterOf(
      { manifest, boshVms, secrets: { '((kubo_ca))': ca } },
      { resolves: this.options.resolves },
    );
    await revokeCertificateBinding(this.#admin(cluster, ca, clientCa), user);
  }

  #admin(cluster: Obj, ca: string, clientCa: CertificateAndKey): KubeAdmin {
    return new KubeAdmin(
      {
        server: cluster.server as string,
        ca,
        tlsServerName: cluster['tls-server-name'] as string | undefined,
      },
      clientCa,
    );
  }

  /** The broker's client CA, if the deployed cluster trusts it (clusters deployed before it do not, until updated). */
  #clientCaTrustedBy(manifest: string): CertificateAndKey {
    const clientCa = this.options.clientCa;
    const trusted = clientCaOfManifest(manifest);
    if (
      clientCa === undefined ||
      trusted === undefined ||
      trusted.trim() !== clientCa.certificatePem.trim()
    ) {
      throw new UnprocessableError(
        'parameters',
        'This cluster does not trust the broker for certificate bindings yet: upgrade it, or bind with the OIDC parameters user_name, id_token and refresh_token',
      );
    }
    return clientCa;
  }

  async #verifyIdToken(request: RequestParameters): Promise<void> {
    const user = bindingUserOf(request);
    if (this.options.idTokenVerifier === undefined) return;
    let verifiedUser: string | undefined;
    try {
      verifiedUser = (await this.options.idTokenVerifier.verify(user.idToken)).userName;
    } catch {
      throw new InputError('id_token', 'id_token is not a valid UAA id token for pks_cluster_client');
    }
    if (verifiedUser !== user.userName) {
      throw new InputError(
        'id_token',
        `id_token was issued to ${verifiedUser ?? 'someone else'}, not ${user.userName}`,
      );
    }
  }

  #open(instanceId: string, bindingId: string, sealed: string): Obj {
    return JSON.parse(this.options.secrets.openString(sealed, sealContext(instanceId, bindingId))) as Obj;
  }

  #binding(instanceId: string, bindingId: string): Promise<BindingRow | undefined> {
    return bindingStore.get(this.options.db, instanceId, bindingId);
  }
}

function sealContext(instanceId: string, bindingId: string): string {
  return `broker.bindings/${instanceId}/${bindingId}`;
}

/** The client CA a manifest gives the cluster's apiserver (kube-apiserver `client-ca`). */
function clientCaOfManifest(manifest: string): string | undefined {
  const parsed = parse(manifest) as {
    instance_groups?: { name?: string; jobs?: { name?: string; properties?: Obj }[] }[];
  };
  const master = parsed.instance_groups?.find((g) => g.name === 'master');
  const apiserver = master?.jobs?.find((j) => j.name === 'kube-apiserver');
  const value = apiserver?.properties?.['client-ca'];
  return typeof value === 'string' ? value : undefined;
}
