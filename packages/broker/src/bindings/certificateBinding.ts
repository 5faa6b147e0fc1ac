import { createHash } from 'node:crypto';
import { InternalError } from '@openpks/domain';
import { issueCertificate, type CertificateAndKey } from '@openpks/pki';
import { UnprocessableError } from '../service/errors.js';
import { kubeMessage, type KubeAdmin } from './kubeAdmin.js';

/** The group (client certificate O) of every certificate binding's user; RBAC grants it nothing by itself. */
export const BINDING_GROUP = 'pks-bindings';
const CLUSTER_ROLE_BINDINGS = '/apis/rbac.authorization.k8s.io/v1/clusterrolebindings';
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9.]{0,200}[a-z0-9])?$/;
/** How long a binding's client certificate is valid; unbinding, not expiry, is what ends access. */
const CERTIFICATE_DAYS = 825;

/**
 * The Kubernetes user of a binding: its client certificate's CN and the name of its ClusterRoleBinding.
 * The binding id when it is a valid object name (platforms send GUIDs), a digest of it otherwise.
 */
export function certificateUserOf(bindingId: string): string {
  const id = bindingId.toLowerCase();
  const safe =
    DNS_SUBDOMAIN.test(id) && id === bindingId
      ? id
      : createHash('sha256').update(bindingId).digest('hex').slice(0, 40);
  return `pks-binding-${safe}`;
}

/** The ClusterRoleBinding that gives a binding's user cluster-admin, as `kubectl create clusterrolebinding`. */
export function clusterRoleBindingOf(user: string, bindingId: string): Record<string, unknown> {
  return {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'ClusterRoleBinding',
    metadata: {
      name: user,
      labels: { 'app.kubernetes.io/managed-by': 'pks-broker' },
      annotations: { 'openpks.io/binding-id': bindingId },
    },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'cluster-admin' },
    subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: user }],
  };
}

export interface CertificateBinding {
  user: string;
  kubeconfig: Record<string, unknown>;
}

/**
 * A binding with no OIDC parameters, as PKS gave clusters without OIDC: a kubeconfig whose user is a
 * client certificate (CN the binding's user, O `pks-bindings`), let in as cluster-admin by a
 * ClusterRoleBinding the broker creates through the cluster's API. Kubernetes cannot revoke a certificate,
 * so unbinding deletes that ClusterRoleBinding (`revokeCertificateBinding`) and the certificate is refused.
 */
export async function createCertificateBinding(options: {
  bindingId: string;
  name: string;
  cluster: Record<string, unknown>;
  clientCa: CertificateAndKey;
  admin: KubeAdmin;
}): Promise<CertificateBinding> {
  const user = certificateUserOf(options.bindingId);
  const credential = await issueCertificate(options.clientCa, {
    commonName: user,
    organizations: [BINDING_GROUP],
    usage: 'client',
    validityDays: CERTIFICATE_DAYS,
  });
  const created = await options.admin.request(
    'POST',
    CLUSTER_ROLE_BINDINGS,
    clusterRoleBindingOf(user, options.bindingId),
  );
  if (created.status === 409) await requireGrantsClusterAdmin(options.admin, user);
  else if (created.status !== 201 && created.status !== 200) {
    throw new InternalError(
      `the cluster refused the ClusterRoleBinding ${user}: ${kubeMessage(created)} (HTTP ${created.status})`,
    );
  }
  const name = options.name;
  return {
    user,
    kubeconfig: {
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [{ name, cluster: options.cluster }],
      users: [
        {
          name: user,
          user: {
            'client-certificate-data': Buffer.from(credential.certificatePem).toString('base64'),
            'client-key-data': Buffer.from(credential.privateKeyPem).toString('base64'),
          },
        },
      ],
      contexts: [{ name, context: { cluster: name, user } }],
      'current-context': name,
      preferences: {},
    },
  };
}

/**
 * A ClusterRoleBinding of that name exists already: one a request for the same binding made first is fine,
 * anything else (someone else's object under our name) would leave the certificate without access.
 */
async function requireGrantsClusterAdmin(admin: KubeAdmin, user: string): Promise<void> {
  const found = await admin.request('GET', `${CLUSTER_ROLE_BINDINGS}/${encodeURIComponent(user)}`);
  const binding = found.body as
    { roleRef?: { kind?: string; name?: string }; subjects?: { kind?: string; name?: string }[] } | undefined;
  const grants =
    found.status === 200 &&
    binding?.roleRef?.kind === 'ClusterRole' &&
    binding.roleRef.name === 'cluster-admin' &&
    (binding.subjects ?? []).some((s) => s.kind === 'User' && s.name === user);
  if (!grants) {
    throw new UnprocessableError(
      'binding_id',
      `the cluster already has a ClusterRoleBinding ${user} that does not give ${user} cluster-admin; delete it or bind under another id`,
    );
  }
}

/** Takes a certificate binding's access away: its ClusterRoleBinding is deleted (gone already is fine). */
export async function revokeCertificateBinding(admin: KubeAdmin, user: string): Promise<void> {
  const deleted = await admin.request('DELETE', `${CLUSTER_ROLE_BINDINGS}/${encodeURIComponent(user)}`);
  if (deleted.status !== 200 && deleted.status !== 202 && deleted.status !== 404) {
    throw new InternalError(
      `the cluster refused to delete the ClusterRoleBinding ${user}: ${kubeMessage(deleted)} (HTTP ${deleted.status})`,
    );
  }
}
