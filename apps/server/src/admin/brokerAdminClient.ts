import { request } from 'node:https';

/** A failed call to the broker's management API, with the broker's `{error, description}`. */
export class BrokerRequestError extends Error {
  constructor(
    readonly status: number,
    readonly description: string,
  ) {
    super(`${description} (HTTP ${status})`);
    this.name = 'BrokerRequestError';
  }
}

export interface BrokerTarget {
  url: string;
  caPem: string | undefined;
  username: string;
  password: string;
}

export interface UpgradeRunInstance {
  instance_id: string;
  is_canary: boolean;
  state: string;
  attempts: number;
  description: string;
  started_at: string | null;
  finished_at: string | null;
}

export interface UpgradeRun {
  id: string;
  state: 'pending' | 'running' | 'succeeded' | 'failed' | 'cancelled';
  operation_type: string;
  max_in_flight: number;
  description: string;
  created_by: string | null;
  created_at: string;
  finished_at: string | null;
  instances: UpgradeRunInstance[];
}

export interface UpgradeRunRequest {
  canaries?: number;
  max_in_flight?: number;
  operation_type?: 'upgrade' | 'recreate';
}

/**
 * The broker's management API (`/mgmt/upgrade_runs`) as the operator uses it: what the tile's
 * "upgrade all clusters" errand does. Basic auth with the broker's credentials, HTTPS with the CA.
 */
export class BrokerAdminClient {
  constructor(private readonly target: BrokerTarget) {}

  startUpgradeRun(body: UpgradeRunRequest): Promise<UpgradeRun> {
    return this.call<UpgradeRun>('POST', '/mgmt/upgrade_runs', body);
  }

  upgradeRun(id: string): Promise<UpgradeRun> {
    return this.call<UpgradeRun>('GET', `/mgmt/upgrade_runs/${encodeURIComponent(id)}`);
  }

  upgradeRuns(): Promise<UpgradeRun[]> {
    return this.call<UpgradeRun[]>('GET', '/mgmt/upgrade_runs');
  }

  cancelUpgradeRun(id: string): Promise<UpgradeRun> {
    return this.call<UpgradeRun>('DELETE', `/mgmt/upgrade_runs/${encodeURIComponent(id)}`);
  }

  private call<T>(method: string, path: string, body?: unknown): Promise<T> {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const url = new URL(path, this.target.url);
    const credentials = Buffer.from(`${this.target.username}:${this.target.password}`).toString('base64');
    const identity = Buffer.from(JSON.stringify({ user_id: 'operator' })).toString('base64');
    return new Promise<T>((resolve, reject) => {
      const req = request(
        url,
        {
          method,
          ca: this.target.caPem,
          headers: {
            Authorization: `Basic ${credentials}`,
            Accept: 'application/json',
            'X-Broker-API-Version': '2.17',
            // The runs an operator starts are theirs: the API shows them as the operator's tasks.
            'X-Broker-API-Originating-Identity': `pks ${identity}`,
            ...(payload === undefined
              ? {}
              : { 'Content-Type': 'application/json', 'Content-Length': String(Buffer.byteLength(payload)) }),
          },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('error', reject);
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            let parsed: unknown;
            try {
              parsed = text === '' ? {} : JSON.parse(text);
            } catch {
              parsed = { description: text.slice(0, 200) };
            }
            const status = res.statusCode ?? 0;
            if (status >= 200 && status < 300) return resolve(parsed as T);
            const description = (parsed as { description?: unknown }).description;
            reject(
              new BrokerRequestError(
                status,
                typeof description === 'string' ? description : `HTTP ${status}`,
              ),
            );
          });
        },
      );
      req.setTimeout(60_000, () => req.destroy(new Error(`the broker did not answer ${method} ${path}`)));
      req.on('error', (error) =>
        reject(new BrokerRequestError(0, `cannot reach the broker at ${this.target.url}: ${error.message}`)),
      );
      req.end(payload);
    });
  }
}
