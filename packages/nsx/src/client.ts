import { HttpsJsonClient, type HttpStatusError } from '@openpks/auth';
import { NsxError } from './nsxError.js';

export interface NsxClientOptions {
  /** The NSX Manager (or simulator) base URL, e.g. `https://nsx.example.com`. */
  url: string;
  username: string;
  password: string;
  /** PEM of the CA that signed the manager's certificate (default: the system's CAs). */
  ca?: string;
  timeoutMs?: number;
  /** How long to wait for NSX to realise an intent before giving up (default 60 s). */
  realizationTimeoutMs?: number;
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
  auto_assign_gateway?: boolean;
}
export interface IpPoolStaticSubnet extends PolicyObject {
  resource_type: 'IpAddressPoolStaticSubnet';
  cidr: string;
  allocation_ranges: { start: string; end: string }[];
}
export type IpPoolSubnet = IpPoolBlockSubnet | IpPoolStaticSubnet;
export interface IpAllocation extends PolicyObject {
  /** Only what was asked for: an address NSX picked is told through the realized state. */
  allocation_ip?: string;
}
export type Tier0 = PolicyObject;
export interface Tier1 extends PolicyObject {
  tier0_path?: string;
}
export interface SegmentSubnet {
  /** The gateway's address with the prefix length, e.g. `10.0.1.1/24`. */
  gateway_address: string;
  /** Read-only: the network NSX computed from `gateway_address`. */
  network?: string;
  dhcp_config?: { resource_type: 'SegmentDhcpV4Config'; dns_servers?: string[] };
}
export interface Segment extends PolicyObject {
  connectivity_path?: string;
  subnets?: SegmentSubnet[];
}
/** A rule of a tier-1's USER NAT section. */
export interface NatRule extends PolicyObject {
  action: 'SNAT' | 'DNAT' | 'REFLEXIVE' | 'NO_SNAT' | 'NO_DNAT';
  source_network?: string;
  destination_network?: string;
  translated_network?: string;
  sequence_number?: number;
  enabled?: boolean;
}
/** A Policy group (an NSGroup), e.g. the one master VMs join. */
export interface Group extends PolicyObject {
  expression?: Record<string, unknown>[];
}
export interface LbService extends PolicyObject {
  connectivity_path?: string;
  size?: 'SMALL' | 'MEDIUM' | 'LARGE';
}

export const POLICY_ROOT = '/policy/api/v1/infra';

/** `GenericPolicyRealizedResource.state`: UNKNOWN/UNREALIZED while NSX works, then REALIZED or ERROR. */
export type RealizationState = 'UNKNOWN' | 'UNREALIZED' | 'REALIZED' | 'ERROR';

/** What NSX made of an intent (`/infra/realized-state/realized-entities?intent_path=…`). */
export interface Realization {
  state: RealizationState;
  /** `extended_attributes`, by key: `allocation_ip` for an IP allocation, `cidr` for a block subnet. */
  attributes: Record<string, string[]>;
  /** The alarms of an ERROR, with NSX's error code where it gives one. */
  errors: { message: string; errorCode?: number }[];
}

interface RealizedEntity {
  state?: string;
  extended_attributes?: { key?: string; values?: string[] }[];
  alarms?: { message?: string; error_details?: { error_code?: number; error_message?: string } }[];
}

type Body = Omit<PolicyObject, 'id'> & Record<string, unknown>;

/**
 * A client of the NSX-T Policy API (`/policy/api/v1/infra/...`) with basic auth over HTTPS. It speaks only
 * the public API, so it works against a real NSX Manager and the simulator alike. Creates use PUT, which
 * answers with the object (PATCH answers empty on a real manager).
 */
export class NsxClient {
  readonly #o: NsxClientOptions;
  readonly #http: HttpsJsonClient;

  constructor(options: NsxClientOptions) {
    this.#o = options;
    this.#http = new HttpsJsonClient({
      url: options.url,
      peer: 'NSX Manager',
      ca: options.ca,
      auth: { basic: { username: options.username, password: options.password } },
      timeoutMs: options.timeoutMs ?? 30_000,
      refusal: nsxError,
    });
  }

  /** Ends kept-alive connections. */
  close(): void {
    this.#http.close();
  }

  readonly ipBlocks = this.#collection<IpBlock>('ip-blocks');
  readonly ipPools = this.#collection<IpPool>('ip-pools');
  readonly tier0s = this.#collection<Tier0>('tier-0s');
  readonly tier1s = this.#collection<Tier1>('tier-1s');
  readonly segments = this.#collection<Segment>('segments');
  readonly lbServices = this.#collection<LbService>('lb-services');

  /** The rules of a tier-1's USER NAT section. */
  natRules(tier1Id: string) {
    return this.#collection<NatRule>(`tier-1s/${encodeURIComponent(tier1Id)}/nat/USER/nat-rules`);
  }

  /** The Policy groups (NSGroups) of a domain (`default` on every manager). */
  groups(domainId = 'default') {
    return this.#collection<Group>(`domains/${encodeURIComponent(domainId)}/groups`);
  }

  /** The subnets of an IP pool (carved from blocks, or static ranges). */
  poolSubnets(poolId: string) {
    return this.#collection<IpPoolSubnet>(`ip-pools/${encodeURIComponent(poolId)}/ip-subnets`);
  }

  /** The single addresses allocated from an IP pool (floating IPs). */
  poolAllocations(poolId: string) {
    return this.#collection<IpAllocation>(`ip-pools/${encodeURIComponent(poolId)}/ip-allocations`);
  }

  /**
   * The realized state of an intent, by its policy path (`/infra/ip-pools/p/ip-allocations/a`). Entities
   * without a state yet count as UNKNOWN, as NSX lists none until it has started on the intent.
   */
  async realization(intentPath: string): Promise<Realization> {
    const answer = await this.#call<{ results?: RealizedEntity[] }>(
      'GET',
      `${POLICY_ROOT}/realized-state/realized-entities?intent_path=${encodeURIComponent(intentPath)}`,
    );
    const entities = (answer.results ?? []).filter((e) => e.state !== undefined);
    const attributes: Record<string, string[]> = {};
    const errors: Realization['errors'] = [];
    for (const entity of entities) {
      for (const a of entity.extended_attributes ?? [])
        if (a.key !== undefined) attributes[a.key] = [...(attributes[a.key] ?? []), ...(a.values ?? [])];
      for (const alarm of entity.alarms ?? []) {
        const message = alarm.error_details?.error_message ?? alarm.message ?? 'realization failed';
        errors.push({
          message,
          ...(alarm.error_details?.error_code !== undefined
            ? { errorCode: alarm.error_details.error_code }
            : {}),
        });
      }
    }
    // One entity in ERROR fails the intent; otherwise it is realized only when every entity is.
    const states = entities.map((e) => e.state as RealizationState);
    const state: RealizationState = states.includes('ERROR')
      ? 'ERROR'
      : states.length > 0 && states.every((x) => x === 'REALIZED')
        ? 'REALIZED'
        : states.includes('UNREALIZED')
          ? 'UNREALIZED'
          : 'UNKNOWN';
    return { state, attributes, errors };
  }

  /**
   * Waits until NSX has realised an intent and answers its extended attributes; an ERROR becomes an
   * `NsxError` with NSX's own message and code (so `isExhaustion` works on it), and a realization that
   * does not come in time an `NsxError` saying so. Polls with backoff (25 ms doubling to 1 s).
   */
  async awaitRealized(intentPath: string): Promise<Record<string, string[]>> {
    const deadline = Date.now() + (this.#o.realizationTimeoutMs ?? 60_000);
    let wait = 25;
    for (;;) {
      const realization = await this.realization(intentPath);
      if (realization.state === 'REALIZED') return realization.attributes;
      if (realization.state === 'ERROR') {
        const first = realization.errors[0];
        throw new NsxError(
          400,
          realization.errors.map((e) => e.message).join('; ') || `NSX could not realise ${intentPath}`,
          intentPath,
          first?.errorCode,
        );
      }
      if (Date.now() + wait > deadline) {
        throw new NsxError(
          504,
          `NSX did not realise ${intentPath} within ${this.#o.realizationTimeoutMs ?? 60_000} ms (state ${realization.state})`,
          intentPath,
        );
      }
      await new Promise((resolve) => setTimeout(resolve, wait));
      wait = Math.min(wait * 2, 1_000);
    }
  }

  /**
   * The one value NSX realised for an intent's attribute (`cidr`, `allocation_ip`), after waiting for the
   * realization. Managers that fill the value into the intent instead of the realized entity's extended
   * attributes are read back from the intent (`GET` on its path) once it is realised.
   */
  async realizedAttribute(intentPath: string, key: string): Promise<string> {
    const value = (await this.awaitRealized(intentPath))[key]?.[0];
    if (value !== undefined) return value;
    const intent = await this.#call<Record<string, unknown>>(
      'GET',
      `${POLICY_ROOT}${intentPath.slice('/infra'.length)}`,
    );
    if (typeof intent[key] === 'string') return intent[key];
    throw new NsxError(502, `NSX realised ${intentPath} without telling its ${key}`, intentPath);
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
    return this.#http.json<T>(method, path, body === undefined ? {} : { json: body });
  }
}

/** NSX's refusal (`{ httpStatus, error_code, module_name, error_message }`) as an NsxError. */
function nsxError(refused: HttpStatusError): NsxError {
  const body = (typeof refused.body === 'object' && refused.body !== null ? refused.body : {}) as {
    error_message?: unknown;
    error_code?: unknown;
  };
  return new NsxError(
    refused.status,
    typeof body.error_message === 'string'
      ? body.error_message
      : `NSX answered ${refused.status} to ${refused.method} ${refused.path}`,
    refused.path,
    typeof body.error_code === 'number' ? body.error_code : undefined,
  );
}
