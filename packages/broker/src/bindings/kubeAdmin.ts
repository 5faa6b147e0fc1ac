import { HttpsJsonClient } from '@openpks/auth';
import { issueCertificate, type CertificateAndKey } from '@openpks/pki';

/** Where a cluster's Kubernetes API is and how to trust it: a kubeconfig's cluster entry. */
export interface KubeCluster {
  server: string;
  /** PEM of the cluster CA. */
  ca: string;
  /** The name on the apiserver's certificate when `server` is an IP (`tls-server-name`). */
  tlsServerName?: string | undefined;
}

export interface KubeResponse {
  status: number;
  body: unknown;
}

/** The identity the broker acts as in clusters: Kubernetes lets `system:masters` do anything. */
export const BROKER_KUBE_USER = { commonName: 'pks-broker', organizations: ['system:masters'] };

const REQUEST_TIMEOUT_MS = 15_000;

/**
 * The broker's admin access to one cluster's Kubernetes API: a short-lived `system:masters` client
 * certificate from the broker's client CA, which the cluster trusts through its apiserver's client CAs.
 * Every status is handed back: the callers read Kubernetes' `Status` (409 AlreadyExists, 404) themselves.
 */
export class KubeAdmin {
  readonly #http: Promise<HttpsJsonClient>;

  constructor(cluster: KubeCluster, clientCa: CertificateAndKey) {
    this.#http = issueCertificate(clientCa, { ...BROKER_KUBE_USER, usage: 'client', validityDays: 1 }).then(
      ({ certificatePem, privateKeyPem }) =>
        new HttpsJsonClient({
          url: cluster.server,
          peer: 'the Kubernetes API of the cluster',
          ca: cluster.ca,
          clientCertificate: { cert: certificatePem, key: privateKeyPem },
          servername: cluster.tlsServerName,
          timeoutMs: REQUEST_TIMEOUT_MS,
          // One admin per binding change, a call or two each, and no close(): no socket is kept open.
          keepAlive: false,
        }),
    );
    // A certificate that cannot be issued is the first request's failure, not an unhandled rejection.
    this.#http.catch(() => undefined);
  }

  async request(method: string, path: string, body?: unknown): Promise<KubeResponse> {
    const http = await this.#http;
    const response = await http.send(method, path, {
      ...(body !== undefined ? { json: body } : {}),
      expect: 'any',
    });
    const raw = response.body.toString('utf8');
    let parsed: unknown = raw;
    try {
      parsed = raw === '' ? undefined : JSON.parse(raw);
    } catch {
      // not JSON: keep the text for the error message
    }
    return { status: response.status, body: parsed };
  }
}

/** The message of a Kubernetes `Status` answer, for errors that name what the cluster said. */
export function kubeMessage(response: KubeResponse): string {
  const body = response.body as { message?: unknown } | undefined;
  return typeof body?.message === 'string' ? body.message : `HTTP ${response.status}`;
}
