import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { parse } from 'yaml';
import { InputError, InputErrors } from '@openpks/domain';
import {
  AppGuidNotProvidedError,
  BindingAlreadyExistsError,
  BindingNotFoundError,
  NotImplementedError,
} from './errors.js';
import { DEFAULT_MASTER_PORT, settingsFromManifest, type ClusterSettings } from './manifest.js';
import type { Binding, CreateBindingParams, OdbPlan, RequestParameters } from './types.js';

type Obj = Record<string, unknown>;
const isObject = (value: unknown): value is Obj =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * Where bindings are remembered, so a repeated create or a delete of an unknown binding is told apart
 * (ODB exit codes 49 and 41). The broker keeps its own bindings table and passes none; the executable
 * keeps a directory of its own when given one.
 */
export interface BindingRegistry {
  /** False when the binding already exists. */
  add(bindingId: string): Promise<boolean>;
  /** False when there was no such binding. */
  remove(bindingId: string): Promise<boolean>;
}

export interface CreateBindingOptions {
  registry?: BindingRegistry | undefined;
  /** Whether the external hostname resolves (default: a DNS lookup). */
  resolves?: ((hostname: string) => Promise<boolean>) | undefined;
}

/** The user and tokens a bind request carries (see `generatePlanSchemas`' `service_binding`). */
export interface BindingUser {
  userName: string;
  idToken: string;
  refreshToken: string;
  clusterName: string | undefined;
}

/**
 * Who the kubeconfig is for. The PKS API obtains the user's id and refresh tokens from UAA for
 * `pks_cluster_client` (it holds the user's session; the broker never sees a password) and sends them in
 * the bind request's `parameters`. These are secrets: never logged, and sealed at rest by the broker.
 */
export function bindingUserOf(request: RequestParameters): BindingUser {
  if (
    isObject(request.bind_resource) &&
    request.bind_resource.app_guid === undefined &&
    request.bind_resource.route === undefined
  ) {
    throw new AppGuidNotProvidedError();
  }
  const parameters = isObject(request.parameters) ? request.parameters : {};
  const errors: InputError[] = [];
  const text = (name: string): string => {
    const value = parameters[name];
    if (typeof value !== 'string' || value === '') {
      errors.push(
        new InputError(name, `is required (the requesting user's ${name.replace('_', ' ')} from UAA)`),
      );
      return '';
    }
    return value;
  };
  const user = {
    userName: text('user_name'),
    idToken: text('id_token'),
    refreshToken: text('refresh_token'),
    clusterName: typeof parameters.cluster_name === 'string' ? parameters.cluster_name : undefined,
  };
  if (errors.length === 1) throw errors[0]!;
  if (errors.length > 1) throw new InputErrors(errors);
  return user;
}

async function dnsResolves(hostname: string): Promise<boolean> {
  if (isIP(hostname) !== 0) return true;
  try {
    await lookup(hostname);
    return true;
  } catch {
    return false;
  }
}

/** The CA certificate from a resolved `((kubo_ca))` (a certificate object as JSON, or a bare PEM). */
function clusterCaOf(secrets: Record<string, string>): string {
  const value = secrets['((kubo_ca))'] ?? secrets['((kubo_ca.certificate))'];
  if (value === undefined) {
    throw new InputError('secrets', 'the cluster CA ((kubo_ca)) was not resolved for this binding');
  }
  if (value.trimStart().startsWith('{')) {
    const parsed = JSON.parse(value) as { certificate?: string };
    if (typeof parsed.certificate === 'string') return parsed.certificate;
  }
  return value;
}

/**
 * The kubeconfig's cluster entry: the cluster CA, `server: https://<external hostname>:<port>` (the first
 * master's IP with `tls-server-name` when the hostname does not resolve). Every kind of binding shares it.
 */
export async function kubeClusterOf(
  params: Pick<CreateBindingParams, 'manifest' | 'boshVms' | 'secrets'>,
  options: Pick<CreateBindingOptions, 'resolves'> = {},
): Promise<{ host: string; cluster: Obj }> {
  const settings = settingsFromManifest(parse(params.manifest) as Obj);
  const host = settings.masterHost;
  if (host === undefined) throw new InputError('manifest', 'the deployment has no Kubernetes API hostname');
  const port = settings.masterPort ?? DEFAULT_MASTER_PORT;
  const ca = clusterCaOf(params.secrets);
  const resolves = await (options.resolves ?? dnsResolves)(host);
  const masterIp = params.boshVms.master?.[0];
  const cluster: Obj = { 'certificate-authority-data': Buffer.from(ca).toString('base64') };
  if (resolves || masterIp === undefined) {
    cluster.server = `https://${host}:${port}`;
  } else {
    // The hostname is not in DNS (yet): reach the master directly, still checking the name on its certificate.
    cluster.server = `https://${masterIp}:${port}`;
    cluster['tls-server-name'] = host;
  }
  return { host, cluster };
}

/**
 * `create-binding`: the kubeconfig material of a cluster for the requesting user (PKS-REFERENCE §3): the
 * cluster entry (`kubeClusterOf`) and an OIDC auth-provider user with the user's UAA tokens.
 */
export async function createBinding(
  params: CreateBindingParams,
  options: CreateBindingOptions = {},
): Promise<Binding> {
  const user = bindingUserOf(params.requestParams);
  const { host, cluster } = await kubeClusterOf(params, options);
  const oidc = oidcOf(parse(params.manifest) as Obj);
  if (options.registry !== undefined && !(await options.registry.add(params.bindingId))) {
    throw new BindingAlreadyExistsError(`binding ${params.bindingId} already exists`);
  }
  const name = user.clusterName ?? host;
  const providerConfig: Obj = {
    'client-id': oidc.clientId,
    cluster_client_secret: '',
    'id-token': user.idToken,
    'refresh-token': user.refreshToken,
    'idp-issuer-url': oidc.issuerUrl,
  };
  if (oidc.ca !== undefined)
    providerConfig['idp-certificate-authority-data'] = Buffer.from(oidc.ca).toString('base64');
  return {
    credentials: {
      kubeconfig: {
        apiVersion: 'v1',
        kind: 'Config',
        clusters: [{ name, cluster }],
        users: [{ name: user.userName, user: { 'auth-provider': { name: 'oidc', config: providerConfig } } }],
        contexts: [{ name, context: { cluster: name, user: user.userName } }],
        'current-context': name,
        preferences: {},
      },
    },
  };
}

function oidcOf(manifest: Obj): { issuerUrl: string; clientId: string; ca: string | undefined } {
  const groups = Array.isArray(manifest.instance_groups) ? manifest.instance_groups : [];
  const master = groups.find((g): g is Obj => isObject(g) && g.name === 'master');
  const jobs = Array.isArray(master?.jobs) ? master.jobs : [];
  const apiserver = jobs.find((j): j is Obj => isObject(j) && j.name === 'kube-apiserver');
  const oidc =
    isObject(apiserver?.properties) && isObject(apiserver.properties.oidc) ? apiserver.properties.oidc : {};
  if (typeof oidc['issuer-url'] !== 'string') {
    throw new InputError(
      'manifest',
      'the cluster is not configured for OIDC (no kube-apiserver oidc.issuer-url)',
    );
  }
  return {
    issuerUrl: oidc['issuer-url'],
    clientId: typeof oidc['client-id'] === 'string' ? oidc['client-id'] : 'pks_cluster_client',
    ca: typeof oidc.ca === 'string' ? oidc.ca : undefined,
  };
}

/** `delete-binding`: nothing lives in the cluster for an OIDC binding; only the registry forgets it. */
export async function deleteBinding(
  params: { bindingId: string },
  options: { registry?: BindingRegistry | undefined } = {},
): Promise<void> {
  if (options.registry !== undefined && !(await options.registry.remove(params.bindingId))) {
    throw new BindingNotFoundError(`binding ${params.bindingId} not found`);
  }
}

/**
 * `dashboard-url`: the Kubernetes dashboard through the cluster's API. A manifest without an external
 * hostname has nothing to point at: not implemented, and ODB then shows no dashboard.
 */
export function dashboardUrl(params: { instanceId: string; plan: OdbPlan; manifest: string }): string {
  return dashboardUrlOf(params.instanceId, settingsFromManifest((parse(params.manifest) ?? {}) as Obj));
}

/** The dashboard of a cluster with these settings (those its manifest was generated from). */
export function dashboardUrlOf(
  instanceId: string,
  settings: Partial<Pick<ClusterSettings, 'masterHost' | 'masterPort'>>,
): string {
  if (settings.masterHost === undefined) {
    throw new NotImplementedError(`no dashboard for ${instanceId}: its manifest has no Kubernetes API`);
  }
  return `https://${settings.masterHost}:${settings.masterPort ?? DEFAULT_MASTER_PORT}/api/v1/namespaces/kube-system/services/https:kubernetes-dashboard:/proxy/`;
}
