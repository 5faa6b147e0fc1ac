import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Database, Queryable } from '@openpks/db';
import { credentialsMatch, parseBasicAuthorization } from '@openpks/pki';
import { NsxErrorCode } from '../nsxError.js';
import {
  firstFreeSubnet,
  formatCidr,
  ipToNumber,
  isIpv4,
  numberToIp,
  overlaps,
  parseCidr,
  type Cidr,
} from '../ipv4.js';

const API_PREFIX = '/policy/api/v1';
const TOP = ['ip-blocks', 'ip-pools', 'tier-0s', 'tier-1s', 'segments', 'lb-services', 'domains'] as const;
/** Collections under a top-level object: a pool's subnets and allocations, a domain's groups. */
const UNDER: Record<string, readonly string[]> = {
  'ip-pools': ['ip-subnets', 'ip-allocations'],
  domains: ['groups'],
};
const REALIZED_ENTITIES = `${API_PREFIX}/infra/realized-state/realized-entities`;
/** How long the simulator takes to realise an intent by default: long enough that clients must poll. */
export const DEFAULT_REALIZATION_DELAY_MS = 20;
const LB_SIZES = ['SMALL', 'MEDIUM', 'LARGE'];
const MAX_BODY = 1024 * 1024;

type Json = Record<string, unknown>;

/**
 * What NSX decided for an intent, kept beside it: visible from `at` (epoch ms) on through the realized-state
 * API, as extended attributes (`cidr`, `allocation_ip`) or as an error with its code.
 */
interface Realization {
  at: number;
  attributes?: Record<string, string>;
  error?: { code: number; message: string };
}

export interface NsxSimulatorOptions {
  /**
   * Delay before an intent shows as REALIZED (default 20 ms). A real manager realises asynchronously, so
   * clients must poll the realized state; a delay keeps that path exercised.
   */
  realizationDelayMs?: number;
}

export interface SimAnswer {
  status: number;
  body: unknown;
}

/** What NSX answers on error (`httpStatus`, `error_code`, `module_name`, `error_message`). */
class SimFailure extends Error {
  constructor(
    readonly status: number,
    readonly errorCode: number,
    message: string,
  ) {
    super(message);
  }
}

const HTTP_STATUS: Record<number, string> = {
  400: 'BAD_REQUEST',
  403: 'FORBIDDEN',
  404: 'NOT_FOUND',
  405: 'METHOD_NOT_ALLOWED',
};

/**
 * The embedded NSX-T simulator (labelled "sim"): the Policy API objects PKS needs with real IPAM over the
 * `nsx` schema. Overlapping IP blocks, exhausted blocks and pools, dangling tier-0/tier-1 paths and deleting
 * objects still in use all fail the way NSX does, with NSX-style error bodies. Writes are serialised by a
 * table lock, so allocations stay exact across concurrent requests and replicas.
 */
export class NsxSimulator {
  readonly #delayMs: number;

  constructor(
    private readonly db: Database,
    private readonly credentials: { username: string; password: string },
    options: NsxSimulatorOptions = {},
  ) {
    this.#delayMs = options.realizationDelayMs ?? DEFAULT_REALIZATION_DELAY_MS;
  }

  /** The HTTPS request handler (mount it with `listenHttps`). */
  readonly handler = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    let answer: SimAnswer;
    if (!this.#authorised(req.headers.authorization)) {
      answer = failure(
        new SimFailure(
          403,
          NsxErrorCode.AUTHENTICATION,
          'The credentials were incorrect or the account specified has been locked.',
        ),
      );
    } else {
      const body = await readBody(req);
      answer =
        body === undefined
          ? failure(
              new SimFailure(
                400,
                NsxErrorCode.INVALID_REQUEST,
                'The request body is not valid JSON or is too large.',
              ),
            )
          : await this.apply(req.method ?? 'GET', req.url ?? '/', body);
    }
    res.writeHead(answer.status, { 'Content-Type': 'application/json', 'Cache-Control': 'no-store' });
    res.end(answer.body === undefined ? undefined : JSON.stringify(answer.body));
  };

  /** One Policy API call, as the HTTP handler runs it (also used in-process to seed). */
  async apply(method: string, url: string, body: unknown): Promise<SimAnswer> {
    try {
      const parsed = new URL(url, 'https://nsx.invalid');
      const urlPath = parsed.pathname;
      if (urlPath === REALIZED_ENTITIES) {
        if (method !== 'GET') throw notAllowed(method, urlPath);
        return { status: 200, body: await this.#realizedEntities(parsed.searchParams.get('intent_path')) };
      }
      const route = parseRoute(urlPath);
      switch (method) {
        case 'GET':
          return {
            status: 200,
            body:
              route.id === undefined
                ? await this.#list(this.db, route)
                : await this.#get(this.db, route.path),
          };
        case 'PUT':
        case 'PATCH':
          if (route.id === undefined) throw notAllowed(method, urlPath);
          return { status: 200, body: await this.#write(route, asObject(body)) };
        case 'DELETE':
          if (route.id === undefined) throw notAllowed(method, urlPath);
          await this.#delete(route);
          return { status: 200, body: undefined };
        default:
          throw notAllowed(method, urlPath);
      }
    } catch (error) {
      if (error instanceof SimFailure) return failure(error);
      throw error;
    }
  }

  #authorised(header: string | undefined): boolean {
    return credentialsMatch(parseBasicAuthorization(header), this.credentials);
  }

  async #list(db: Queryable, route: Route): Promise<Json> {
    if (route.parent !== '' && (await find(db, route.parent)) === undefined) throw notFound(route.parent);
    const rows = await db.query<{ body: Json }>(
      `SELECT body FROM nsx.objects WHERE parent = $1 AND kind = $2 ORDER BY created_at, path`,
      [route.parent, route.kind],
    );
    const results = rows.rows.map((r) => r.body);
    return { results, result_count: results.length };
  }

  async #get(db: Queryable, path: string): Promise<Json> {
    const found = await find(db, path);
    if (found === undefined) throw notFound(path);
    return found;
  }

  async #write(route: Route, input: Json): Promise<Json> {
    return this.db.transaction(async (tx) => {
      await tx.query(`LOCK TABLE nsx.objects IN EXCLUSIVE MODE`);
      const existing = await find(tx, route.path);
      if (route.parent !== '' && (await find(tx, route.parent)) === undefined) throw notFound(route.parent);
      // An allocation is made once; repeating the request answers with what was allocated (idempotent).
      if (
        existing !== undefined &&
        (route.kind === 'ip-subnets' || route.kind === 'ip-allocations' || route.kind === 'ip-blocks')
      ) {
        if (route.kind !== 'ip-blocks' || input.cidr === undefined || input.cidr === existing.cidr)
          return existing;
        throw new SimFailure(
          400,
          NsxErrorCode.INVALID_REQUEST,
          `IP block ${route.path} cannot change its cidr once created.`,
        );
      }
      const { body, realized } = await this.#realise(tx, route, input);
      const stored: Json = {
        ...body,
        id: route.id,
        path: route.path,
        parent_path: route.parent === '' ? '/infra' : route.parent,
        display_name: typeof input.display_name === 'string' ? input.display_name : route.id,
        resource_type: body.resource_type ?? RESOURCE_TYPES[route.kind],
        _create_time: (existing?._create_time as number | undefined) ?? Date.now(),
        _last_modified_time: Date.now(),
        _revision: existing === undefined ? 0 : Number(existing._revision ?? 0) + 1,
      };
      // An update is realised afresh (after the delay), as NSX re-realises a changed intent.
      const realization: Realization = { ...realized, at: Date.now() + this.#delayMs };
      await tx.query(
        `INSERT INTO nsx.objects (path, parent, kind, body, realized) VALUES ($1, $2, $3, $4::jsonb, $5::jsonb)
         ON CONFLICT (path) DO UPDATE SET body = EXCLUDED.body, realized = EXCLUDED.realized`,
        [route.path, route.parent, route.kind, JSON.stringify(stored), JSON.stringify(realization)],
      );
      return stored;
    });
  }

  /**
   * Checks a new or changed object against NSX's rules and decides what NSX computes for it (IPAM). The
   * intent is answered to GETs; the decision is visible only through the realized state.
   */
  async #realise(
    tx: Queryable,
    route: Route,
    input: Json,
  ): Promise<{ body: Json; realized: Omit<Realization, 'at'> }> {
    const body: Json = { ...input };
    delete body._revision;
    switch (route.kind) {
      case 'ip-blocks': {
        const cidr = typeof input.cidr === 'string' ? parseCidr(input.cidr) : undefined;
        if (cidr === undefined)
          throw invalid(
            `IP block ${route.path}: cidr ${JSON.stringify(input.cidr)} is not a valid IPv4 network.`,
          );
        for (const other of await all(tx, '', 'ip-blocks')) {
          const theirs = parseCidr(String(other.cidr))!;
          if (other.path !== route.path && overlaps(cidr, theirs)) {
            throw new SimFailure(
              400,
              NsxErrorCode.OVERLAP,
              `IP block ${input.cidr} overlaps with IP block ${String(other.path)} (${String(other.cidr)}).`,
            );
          }
        }
        return { body, realized: {} };
      }
      case 'tier-1s':
        if (input.tier0_path !== undefined) await mustExist(tx, input.tier0_path, 'tier-0s', 'tier0_path');
        return { body, realized: {} };
      case 'segments':
        if (input.connectivity_path !== undefined)
          await mustExist(tx, input.connectivity_path, ['tier-1s', 'tier-0s'], 'connectivity_path');
        return { body: { ...body, subnets: segmentSubnets(route, input.subnets) }, realized: {} };
      case 'lb-services':
        if (input.connectivity_path !== undefined)
          await mustExist(tx, input.connectivity_path, 'tier-1s', 'connectivity_path');
        if (input.size !== undefined && !LB_SIZES.includes(String(input.size)))
          throw invalid(
            `Load balancer size ${JSON.stringify(input.size)} is not one of ${LB_SIZES.join(', ')}.`,
          );
        return { body: { size: 'SMALL', ...body }, realized: {} };
      case 'nat-rules':
        return { body: natRule(route, body), realized: {} };
      case 'ip-subnets':
        return this.#carve(tx, route, body);
      case 'ip-allocations':
        return this.#allocate(tx, route, body);
      default:
        return { body, realized: {} };
    }
  }

  /**
   * A pool subnet: a block subnet is carved from its IP block's free space; a static one is taken as given.
   * NSX counts a block's free space by its subnets' intents, so an exhausted block refuses the request at
   * once; the carved CIDR itself is only told through the realized state (`cidr`).
   */
  async #carve(
    tx: Queryable,
    route: Route,
    input: Json,
  ): Promise<{ body: Json; realized: Omit<Realization, 'at'> }> {
    if (input.resource_type === 'IpAddressPoolStaticSubnet') {
      const cidr = typeof input.cidr === 'string' ? parseCidr(input.cidr) : undefined;
      if (cidr === undefined)
        throw invalid(
          `IP pool subnet ${route.path}: cidr ${JSON.stringify(input.cidr)} is not a valid IPv4 network.`,
        );
      const ranges = Array.isArray(input.allocation_ranges)
        ? (input.allocation_ranges as { start?: unknown; end?: unknown }[])
        : [];
      if (ranges.length === 0) throw invalid(`IP pool subnet ${route.path}: allocation_ranges is required.`);
      for (const r of ranges) {
        if (
          typeof r.start !== 'string' ||
          typeof r.end !== 'string' ||
          !isIpv4(r.start) ||
          !isIpv4(r.end) ||
          !inside(cidr, r.start) ||
          !inside(cidr, r.end) ||
          ipToNumber(r.start) > ipToNumber(r.end)
        ) {
          throw invalid(
            `IP pool subnet ${route.path}: allocation range ${JSON.stringify(r)} is not inside ${String(input.cidr)}.`,
          );
        }
      }
      return { body: input, realized: { attributes: { cidr: formatCidr(cidr) } } };
    }
    if (input.resource_type !== 'IpAddressPoolBlockSubnet') {
      throw invalid(
        `IP pool subnet ${route.path}: resource_type must be IpAddressPoolBlockSubnet or IpAddressPoolStaticSubnet.`,
      );
    }
    // The carved range is NSX's to decide: a client cannot dictate it in the intent.
    delete input.cidr;
    delete input.start_ip;
    const block = await mustExist(tx, input.ip_block_path, 'ip-blocks', 'ip_block_path');
    const size = Number(input.size);
    if (!Number.isInteger(size) || size < 2 || Math.log2(size) % 1 !== 0) {
      throw invalid(`IP pool subnet ${route.path}: size ${JSON.stringify(input.size)} must be a power of 2.`);
    }
    const blockCidr = parseCidr(String(block.cidr))!;
    const taken = (await carvedFrom(tx, String(block.path))).map((cidr) => parseCidr(cidr)!);
    const subnet = firstFreeSubnet(blockCidr, size, taken);
    if (subnet === undefined) {
      throw new SimFailure(
        400,
        NsxErrorCode.BLOCK_EXHAUSTED,
        `IP block ${String(block.path)} (${String(block.cidr)}) is exhausted: no free subnet of size ${size} left.`,
      );
    }
    return {
      body: { ...input, size },
      realized: {
        attributes: {
          cidr: formatCidr(subnet),
          start_ip: numberToIp(subnet.start),
          ...(input.auto_assign_gateway === true ? { gateway_ip: numberToIp(subnet.start + 1) } : {}),
        },
      },
    };
  }

  /**
   * One address from the pool's static ranges: the lowest free one, or the one asked for. As on NSX, a
   * request for any address is accepted as intent and the address (or why there is none) is told only
   * through the realized state; a pool without subnets refuses at once.
   */
  async #allocate(
    tx: Queryable,
    route: Route,
    input: Json,
  ): Promise<{ body: Json; realized: Omit<Realization, 'at'> }> {
    const ranges = (await all(tx, route.parent, 'ip-subnets')).flatMap((s) =>
      s.resource_type === 'IpAddressPoolStaticSubnet'
        ? (s.allocation_ranges as { start: string; end: string }[])
        : [],
    );
    if (ranges.length === 0)
      throw invalid(`IP pool ${route.parent} has no subnet with allocation ranges to allocate from.`);
    const used = new Set(await allocatedIn(tx, route.parent));
    if (input.allocation_ip !== undefined) {
      const ip = String(input.allocation_ip);
      if (!ranges.some((r) => ipToNumber(ip) >= ipToNumber(r.start) && ipToNumber(ip) <= ipToNumber(r.end))) {
        throw invalid(`IP ${ip} is not in a range of IP pool ${route.parent}.`);
      }
      if (used.has(ip))
        return {
          body: input,
          realized: {
            error: {
              code: NsxErrorCode.IN_USE,
              message: `IP ${ip} of IP pool ${route.parent} is already allocated.`,
            },
          },
        };
      return { body: input, realized: { attributes: { allocation_ip: ip } } };
    }
    for (const r of ranges) {
      for (let n = ipToNumber(r.start); n <= ipToNumber(r.end); n++) {
        const ip = numberToIp(n);
        if (!used.has(ip)) return { body: input, realized: { attributes: { allocation_ip: ip } } };
      }
    }
    return {
      body: input,
      realized: {
        error: {
          code: NsxErrorCode.POOL_EXHAUSTED,
          message: `IP pool ${route.parent} is exhausted: no free IP address left.`,
        },
      },
    };
  }

  /**
   * `GET /infra/realized-state/realized-entities?intent_path=…`: what NSX made of an intent. UNREALIZED
   * until the realization delay has passed, then REALIZED with type-specific `extended_attributes`, or
   * ERROR with an alarm that carries NSX's error code and message.
   */
  async #realizedEntities(intentPath: string | null): Promise<Json> {
    if (intentPath === null || intentPath === '')
      throw invalid('The query parameter intent_path is required.');
    const rows = await this.db.query<{ body: Json; kind: string; realized: Realization | null }>(
      `SELECT body, kind, realized FROM nsx.objects WHERE path = $1`,
      [intentPath],
    );
    const row = rows.rows[0];
    if (row === undefined) throw notFound(intentPath);
    const realization: Realization = row.realized ?? { at: 0 };
    const state =
      Date.now() < realization.at ? 'UNREALIZED' : realization.error !== undefined ? 'ERROR' : 'REALIZED';
    const entity: Json = {
      id: String(row.body.id),
      display_name: String(row.body.display_name ?? row.body.id),
      path: `/infra/realized-state/enforcement-points/default${intentPath.slice('/infra'.length)}`,
      intent_paths: [intentPath],
      entity_type: REALIZED_TYPES[row.kind] ?? 'RealizedObject',
      resource_type: 'GenericPolicyRealizedResource',
      state,
      runtime_status: state === 'REALIZED' ? 'SUCCESS' : state === 'ERROR' ? 'ERROR' : 'UNINITIALIZED',
    };
    if (state === 'REALIZED' && realization.attributes !== undefined) {
      entity.extended_attributes = Object.entries(realization.attributes).map(([key, value]) => ({
        key,
        values: [value],
        data_type: 'STRING',
        multivalue: false,
      }));
    }
    if (state === 'ERROR') {
      entity.alarms = [
        {
          message: realization.error!.message,
          error_details: { error_code: realization.error!.code, error_message: realization.error!.message },
          source_reference: intentPath,
        },
      ];
    }
    return { results: [entity], result_count: 1 };
  }

  async #delete(route: Route): Promise<void> {
    await this.db.transaction(async (tx) => {
      await tx.query(`LOCK TABLE nsx.objects IN EXCLUSIVE MODE`);
      if ((await find(tx, route.path)) === undefined) return;
      const children = await tx.query<{ path: string }>(
        `SELECT path FROM nsx.objects WHERE parent = $1 LIMIT 1`,
        [route.path],
      );
      if (children.rowCount > 0) throw inUse(route.path, children.rows[0]!.path);
      const users = await tx.query<{ path: string }>(
        `SELECT path FROM nsx.objects
         WHERE body->>'tier0_path' = $1 OR body->>'connectivity_path' = $1 OR body->>'ip_block_path' = $1 LIMIT 1`,
        [route.path],
      );
      if (users.rowCount > 0) throw inUse(route.path, users.rows[0]!.path);
      await tx.query(`DELETE FROM nsx.objects WHERE path = $1`, [route.path]);
    });
  }
}

const REALIZED_TYPES: Record<string, string> = {
  'ip-subnets': 'RealizedIpBlockSubnet',
  'ip-allocations': 'RealizedIpAllocation',
  'ip-pools': 'RealizedIpPool',
  'ip-blocks': 'RealizedIpBlock',
  'tier-0s': 'RealizedLogicalRouter',
  'tier-1s': 'RealizedLogicalRouter',
  segments: 'RealizedLogicalSwitch',
  'lb-services': 'RealizedLoadBalancerService',
  groups: 'RealizedNSGroup',
  'nat-rules': 'RealizedNatRule',
};

const RESOURCE_TYPES: Record<string, string> = {
  'ip-blocks': 'IpAddressBlock',
  'ip-pools': 'IpAddressPool',
  'ip-allocations': 'IpAddressAllocation',
  'tier-0s': 'Tier0',
  'tier-1s': 'Tier1',
  segments: 'Segment',
  'lb-services': 'LBService',
  domains: 'Domain',
  groups: 'Group',
  'nat-rules': 'PolicyNatRule',
};

interface Route {
  /** Policy path of the object, or of the collection when `id` is undefined. */
  path: string;
  parent: string;
  kind: string;
  id: string | undefined;
}

function parseRoute(urlPath: string): Route {
  if (!urlPath.startsWith(`${API_PREFIX}/infra/`)) throw notFound(urlPath);
  const parts = urlPath
    .slice(API_PREFIX.length + '/infra/'.length)
    .split('/')
    .filter(Boolean)
    .map(decodeURIComponent);
  // A tier-1's NAT rules live under its USER NAT section (`/tier-1s/t/nat/USER/nat-rules/r`); the section
  // itself is implicit, so the rules are the tier-1's children of kind `nat-rules`.
  if (parts[0] === 'tier-1s' && parts[2] === 'nat') {
    const [, t1, , section, collection, ruleId, ...more] = parts;
    if (
      section !== 'USER' ||
      collection !== 'nat-rules' ||
      more.length > 0 ||
      [t1, ruleId].some((x) => x !== undefined && !/^[A-Za-z0-9][A-Za-z0-9_.-]{0,254}$/.test(x))
    )
      throw notFound(urlPath);
    const parent = `/infra/tier-1s/${t1}`;
    const rules = `${parent}/nat/USER/nat-rules`;
    return {
      path: ruleId === undefined ? rules : `${rules}/${ruleId}`,
      parent,
      kind: 'nat-rules',
      id: ruleId,
    };
  }
  const [top, topId, sub, subId, ...rest] = parts;
  const known = (TOP as readonly string[]).includes(top ?? '');
  const subKnown = sub === undefined || (UNDER[top ?? ''] ?? []).includes(sub);
  if (
    !known ||
    !subKnown ||
    rest.length > 0 ||
    [topId, subId].some((x) => x !== undefined && !/^[A-Za-z0-9][A-Za-z0-9_.-]{0,254}$/.test(x))
  ) {
    throw notFound(urlPath);
  }
  if (sub === undefined) {
    return {
      path: topId === undefined ? `/infra/${top}` : `/infra/${top}/${topId}`,
      parent: '',
      kind: top!,
      id: topId,
    };
  }
  const parent = `/infra/${top}/${topId}`;
  return {
    path: subId === undefined ? `${parent}/${sub}` : `${parent}/${sub}/${subId}`,
    parent,
    kind: sub,
    id: subId,
  };
}

async function find(db: Queryable, path: string): Promise<Json | undefined> {
  const rows = await db.query<{ body: Json }>(`SELECT body FROM nsx.objects WHERE path = $1`, [path]);
  return rows.rows[0]?.body;
}

async function all(db: Queryable, parent: string, kind: string): Promise<Json[]> {
  return (
    await db.query<{ body: Json }>(`SELECT body FROM nsx.objects WHERE parent = $1 AND kind = $2`, [
      parent,
      kind,
    ])
  ).rows.map((r) => r.body);
}

/** The CIDRs already carved from a block (by every pool's block subnets). */
async function carvedFrom(db: Queryable, blockPath: string): Promise<string[]> {
  return (
    await db.query<{ cidr: string }>(
      `SELECT realized->'attributes'->>'cidr' AS cidr FROM nsx.objects
       WHERE kind = 'ip-subnets' AND body->>'ip_block_path' = $1 AND realized->'attributes'->>'cidr' IS NOT NULL`,
      [blockPath],
    )
  ).rows.map((r) => r.cidr);
}

/** The addresses allocated from a pool (allocations that failed to realise hold none). */
async function allocatedIn(db: Queryable, poolPath: string): Promise<string[]> {
  return (
    await db.query<{ ip: string }>(
      `SELECT realized->'attributes'->>'allocation_ip' AS ip FROM nsx.objects
       WHERE parent = $1 AND kind = 'ip-allocations' AND realized->'attributes'->>'allocation_ip' IS NOT NULL`,
      [poolPath],
    )
  ).rows.map((r) => r.ip);
}

const NAT_ACTIONS = ['SNAT', 'DNAT', 'REFLEXIVE', 'NO_SNAT', 'NO_DNAT'];

/**
 * A tier-1 NAT rule: a known action, networks that are IPv4 addresses or CIDRs, and a translated network
 * for the actions that translate. `enabled` defaults to true, as on NSX.
 */
function natRule(route: Route, rule: Json): Json {
  if (!NAT_ACTIONS.includes(String(rule.action)))
    throw invalid(
      `NAT rule ${route.path}: action ${JSON.stringify(rule.action)} is not one of ${NAT_ACTIONS.join(', ')}.`,
    );
  for (const key of ['source_network', 'destination_network', 'translated_network']) {
    const value = rule[key];
    if (value === undefined || value === '') continue;
    if (typeof value !== 'string' || (!isIpv4(value) && parseCidr(value) === undefined))
      throw invalid(
        `NAT rule ${route.path}: ${key} ${JSON.stringify(value)} is not an IPv4 address or network.`,
      );
  }
  if (['SNAT', 'DNAT', 'REFLEXIVE'].includes(String(rule.action)) && !rule.translated_network)
    throw invalid(`NAT rule ${route.path}: ${String(rule.action)} needs a translated_network.`);
  return { enabled: true, ...rule };
}

/**
 * A segment's subnets as NSX stores them: each `gateway_address` must be an address with a prefix, and NSX
 * fills in the read-only `network`; DHCP `dns_servers` must be IPv4 addresses.
 */
function segmentSubnets(route: Route, subnets: unknown): unknown {
  if (subnets === undefined) return undefined;
  if (!Array.isArray(subnets)) throw invalid(`Segment ${route.path}: subnets must be a list.`);
  return subnets.map((raw: unknown) => {
    const subnet = asObject(raw);
    const match = /^([\d.]+)\/(\d{1,2})$/.exec(String(subnet.gateway_address));
    const prefix = Number(match?.[2]);
    if (!match || !isIpv4(match[1]!) || prefix > 32)
      throw invalid(
        `Segment ${route.path}: gateway_address ${JSON.stringify(subnet.gateway_address)} is not an IPv4 address with a prefix length.`,
      );
    const size = 2 ** (32 - prefix);
    const network = formatCidr({ start: Math.floor(ipToNumber(match[1]!) / size) * size, prefix, size });
    const dhcp = subnet.dhcp_config as { dns_servers?: unknown } | undefined;
    if (dhcp !== undefined) {
      const dns = dhcp.dns_servers;
      if (dns !== undefined && (!Array.isArray(dns) || !dns.every((d) => typeof d === 'string' && isIpv4(d))))
        throw invalid(
          `Segment ${route.path}: dhcp_config.dns_servers ${JSON.stringify(dns)} must be IPv4 addresses.`,
        );
    }
    return { ...subnet, network };
  });
}

async function mustExist(
  db: Queryable,
  path: unknown,
  kinds: string | string[],
  field: string,
): Promise<Json> {
  const allowed = Array.isArray(kinds) ? kinds : [kinds];
  const found = typeof path === 'string' ? await find(db, path) : undefined;
  if (found === undefined || !allowed.some((k) => String(path).startsWith(`/infra/${k}/`))) {
    throw new SimFailure(
      404,
      NsxErrorCode.OBJECT_NOT_FOUND,
      `${field}: the path=[${String(path)}] is invalid or does not exist.`,
    );
  }
  return found;
}

function inside(cidr: Cidr, ip: string): boolean {
  const n = ipToNumber(ip);
  return n >= cidr.start && n < cidr.start + cidr.size;
}

function asObject(body: unknown): Json {
  if (typeof body !== 'object' || body === null || Array.isArray(body))
    throw invalid('The request body must be a JSON object.');
  return body as Json;
}

function invalid(message: string): SimFailure {
  return new SimFailure(400, NsxErrorCode.INVALID_REQUEST, message);
}

function notFound(path: string): SimFailure {
  return new SimFailure(
    404,
    NsxErrorCode.OBJECT_NOT_FOUND,
    `The path=[${path}] is invalid or the object does not exist.`,
  );
}

function inUse(path: string, by: string): SimFailure {
  return new SimFailure(400, NsxErrorCode.IN_USE, `Cannot delete ${path}: it is still referenced by ${by}.`);
}

function notAllowed(method: string, path: string): SimFailure {
  return new SimFailure(405, NsxErrorCode.INVALID_REQUEST, `${method} is not supported on ${path}.`);
}

function failure(error: SimFailure): SimAnswer {
  return {
    status: error.status,
    body: {
      httpStatus: HTTP_STATUS[error.status] ?? 'ERROR',
      error_code: error.errorCode,
      module_name: 'Policy',
      error_message: error.message,
    },
  };
}

async function readBody(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY) return undefined;
    chunks.push(chunk as Buffer);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  if (text.trim() === '') return null;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}
