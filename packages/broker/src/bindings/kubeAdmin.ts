import { request } from 'node:https';
import { InternalError } from '@openpks/domain';
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
 */
export class KubeAdmin {
  readonly #credential: Promise<CertificateAndKey>;

  constructor(
    private readonly cluster: KubeCluster,
    clientCa: CertificateAndKey,
  ) {
    this.#credential = issueCertificate(clientCa, { ...BROKER_KUBE_USER, usage: 'client', validityDays: 1 });
  }

  async request(method: string, path: string, body?: unknown): Promise<KubeResponse> {
    const { certificatePem, privateKeyPem } = await this.#credential;
    const text = body === undefined ? undefined : JSON.stringify(body);
    const url = new URL(path, this.cluster.server);
    return new Promise((resolve, reject) => {
      const req = request(
        url,
        {
          method,
          ca: this.cluster.ca,
          cert: certificatePem,
          key: privateKeyPem,
          ...(this.cluster.tlsServerName !== undefined ? { servername: this.cluster.tlsServerName } : {}),
          headers: {
            Accept: 'application/json',
            ...(text !== undefined
              ? { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) }
              : {}),
          },
          timeout: REQUEST_TIMEOUT_MS,
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('error', reject);
          res.on('end', () => {
            const raw = Buffer.concat(chunks).toString('utf8');
            let parsed: unknown = raw;
            try {
              parsed = raw === '' ? undefined : JSON.parse(raw);
            } catch {
              // not JSON: keep the text for the error message
            }
            resolve({ status: res.statusCode ?? 0, body: parsed });
          });
        },
      );
      req.on('timeout', () => req.destroy(new Error(`no answer within ${REQUEST_TIMEOUT_MS} ms`)));
      req.on('error', (error) =>
        reject(
          new InternalError(
            `the Kubernetes API of the cluster at ${url.origin} is not reachable: ${error.message}`,
            { cause: error },
          ),
        ),
      );
      req.end(text);
    });
  }
}

/** The message of a Kubernetes `Status` answer, for errors that name what the cluster said. */
export function kubeMessage(response: KubeResponse): string {
  const body = response.body as { message?: unknown } | undefined;
  return typeof body?.message === 'string' ? body.message : `HTTP ${response.status}`;
}
