import { request } from 'node:https';
import { NsxError } from './nsxError.js';

export interface NsxClientOptions {
  /** The NSX Manager (or simulator) base URL, e.g. `https://nsx.example.com`. */
  url: string;
  username: string;
  password: string;
  /** PEM of the CA that signed the manager's certificate (default: the system's CAs). */
  ca?: string;
  timeoutMs?: number;
}

/** Policy API objects PKS uses, with the fields it reads and writes. */
export interface PolicyObject {
  id: string;
  path?: string;
  display_name?: string;
  tags?: { scope: string; tag: string }[];
}
export interface IpBlock extends PolicyObject {
  cidr: string;
}
export type IpPool = PolicyObject;
export interface IpPoolBlockSubnet extends PolicyObject {
  resource_type: 'IpAddressPoolBlockSubnet';
  ip_block_path: string;
  size: number;
  /** The subnet NSX carved from the block (realised at once by the simulator). */
  cidr?: string;
}
export interface IpPoolStaticSubnet extends PolicyObject {
  resource_type: 'IpAddressPoolStaticSubnet';
  cidr: string;
  allocation_ranges: { start: string; end: string }[];
}
export type IpPoolSubnet = IpPoolBlockSubnet | IpPoolStaticSubnet;
export interface IpAllocation extends PolicyObject {
  allocation_ip?: string;
}
export type Tier0 = PolicyObject;
export interface Tier1 extends PolicyObject {
  tier0_path?: string;
}
export interface Segment extends PolicyObject {
  connectivity_path?: string;
  subnets?: { gateway_address: string }[];
}
export interface LbService extends PolicyObject {
  connectivity_path?: string;
  size?: 'SMALL' | 'MEDIUM' | 'LARGE';
}

export const POLICY_ROOT = '/policy/api/v1/infra';

type Body = Omit<PolicyObject, 'id'> & Record<string, unknown>;

/**
 * A client of the NSX-T Policy API (`/policy/api/v1/infra/...`) with basic auth over HTTPS. It speaks only
 * the public API, so it works against a real NSX Manager and the simulator alike. Creates use PUT, which
 * answers with the object (PATCH answers empty on a real manager).
 */
export class NsxClient {
  readonly #o: NsxClientOptions;

  constructor(options: NsxClientOptions) {
    this.#o = options;
  }

  readonly ipBlocks = this.#collection<IpBlock>('ip-blocks');
  readonly ipPools = this.#collection<IpPool>('ip-pools');
  readonly tier0s = this.#collection<Tier0>('tier-0s');
  readonly tier1s = this.#collection<Tier1>('tier-1s');
  readonly segments = this.#collection<Segment>('segments');
  readonly lbServices = this.#collection<LbService>('lb-services');

  /** The subnets of an IP pool (carved from blocks, or static ranges). */
  poolSubnets(poolId: string) {
    return this.#collection<IpPoolSubnet>(`ip-pools/${encodeURIComponent(poolId)}/ip-subnets`);
  }

  /** The single addresses allocated from an IP pool (floating IPs). */
  poolAllocations(poolId: string) {
    return this.#collection<IpAllocation>(`ip-pools/${encodeURIComponent(poolId)}/ip-allocations`);
  }

  /** Addresses of an IP block already carved into pool subnets, and what remains. */
  async blockUsage(blockId: string): Promise<{ total: number; allocated: number; free: number }> {
    const block = await this.ipBlocks.get(blockId);
    const total = 2 ** (32 - Number(block.cidr.split('/')[1]));
    let allocated = 0;
    for (const pool of await this.ipPools.list()) {
      for (const subnet of await this.poolSubnets(pool.id).list()) {
        if (
          subnet.resource_type === 'IpAddressPoolBlockSubnet' &&
          subnet.ip_block_path === `/infra/ip-blocks/${blockId}`
        ) {
          allocated += subnet.size;
        }
      }
    }
    return { total, allocated, free: total - allocated };
  }

  #collection<T extends PolicyObject>(collection: string) {
    const base = `${POLICY_ROOT}/${collection}`;
    const item = (id: string) => `${base}/${encodeURIComponent(id)}`;
    return {
      list: async (): Promise<T[]> => (await this.#call<{ results: T[] }>('GET', base)).results,
      get: (id: string): Promise<T> => this.#call<T>('GET', item(id)),
      /** The object, or undefined when NSX does not have it. */
      find: (id: string): Promise<T | undefined> =>
        this.#call<T>('GET', item(id)).catch((error: unknown) => {
          if (error instanceof NsxError && error.status === 404) return undefined;
          throw error;
        }),
      put: (id: string, body: Body): Promise<T> => this.#call<T>('PUT', item(id), body),
      /** Deletes the object; deleting one that is gone succeeds, as on a real manager. */
      delete: async (id: string): Promise<void> => {
        await this.#call('DELETE', item(id));
      },
    };
  }

  #call<T>(method: string, path: string, body?: unknown): Promise<T> {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const auth = Buffer.from(`${this.#o.username}:${this.#o.password}`).toString('base64');
    return new Promise<T>((resolve, reject) => {
      const req = request(
        new URL(path, this.#o.url),
        {
          method,
          ...(this.#o.ca !== undefined ? { ca: this.#o.ca } : {}),
          timeout: this.#o.timeoutMs ?? 30_000,
          headers: {
            Authorization: `Basic ${auth}`,
            Accept: 'application/json',
            ...(payload !== undefined
              ? { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(payload) }
              : {}),
          },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('error', reject);
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            let json: unknown;
            try {
              json = text === '' ? undefined : JSON.parse(text);
            } catch {
              json = undefined;
            }
            const status = res.statusCode ?? 0;
            if (status >= 200 && status < 300) {
              resolve(json as T);
              return;
            }
            const e = (json ?? {}) as { error_message?: string; error_code?: number };
            reject(
              new NsxError(
                status,
                e.error_message ?? `NSX answered ${status} to ${method} ${path}`,
                path,
                e.error_code,
              ),
            );
          });
        },
      );
      req.on('timeout', () => req.destroy(new Error(`NSX did not answer ${method} ${path} in time`)));
      req.on('error', reject);
      req.end(payload);
    });
  }
}
