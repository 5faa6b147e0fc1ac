import { randomUUID } from 'node:crypto';
import type { Database } from '@openpks/db';
import { InputError } from '@openpks/domain';
import { CpiError, type Cpi, type CpiInfo, type NetworkSettings } from './cpi.js';

export const CPI_METHODS = [
  'info',
  'create_stemcell',
  'delete_stemcell',
  'create_vm',
  'delete_vm',
  'has_vm',
  'reboot_vm',
  'set_vm_metadata',
  'create_disk',
  'delete_disk',
  'has_disk',
  'attach_disk',
  'detach_disk',
] as const;
export type CpiMethod = (typeof CPI_METHODS)[number];

/** One injected fault of the sim CPI. */
export interface SimFault {
  method: CpiMethod;
  /** Only calls for VMs of this instance group count (create_vm and set_vm_metadata know the group). */
  instanceGroup?: string;
  /** Fail the nth matching call (1-based), counted from when the fault was injected. */
  nth?: number;
  /** Fail each matching call with this probability (0..1). */
  probability?: number;
  /** Instead of failing, never answer: the Director's CPI timeout ends the task `timeout`. */
  hang?: boolean;
  /** The error message (default names the method and says it was injected). */
  message?: string;
  /** How many times it fires (default: once with `nth`, every time otherwise). */
  times?: number;
}

export interface SimCpiOptions {
  /** The address range VM IPs come from, as a CIDR inside 127.0.0.0/8 (default 127.1.0.0/16). */
  ipRange?: string;
  /** Latency of every call in ms, or per method. */
  latencyMs?: number | Partial<Record<CpiMethod, number>>;
  faults?: readonly SimFault[];
  /** The random source for probabilistic faults (tests pass a seeded one). */
  random?: () => number;
}

interface ActiveFault extends SimFault {
  seen: number;
  fired: number;
}

export interface SimVm {
  cid: string;
  agentId: string;
  ip: string;
  deployment: string | null;
  instanceGroup: string | null;
  metadata: Record<string, string>;
}

export const DEFAULT_SIM_IP_RANGE = '127.1.0.0/16';

/**
 * The sim CPI: the only simulated part of the embedded Director. VMs and disks are rows in the
 * `director` schema, IPs come from a persisted pool of loopback addresses, every call can be slowed and
 * any call can be made to fail or hang, so the Director's failure paths are exercised for real.
 */
export class SimCpi implements Cpi {
  readonly name = 'sim';
  readonly #db: Database;
  readonly #range: { first: number; last: number; cidr: string };
  /** No address below this one is free (as far as this process knows): where allocation looks first. */
  #lowestFree = 0;
  readonly #latency: number | Partial<Record<CpiMethod, number>>;
  readonly #random: () => number;
  #faults: ActiveFault[] = [];
  readonly #hanging = new Set<() => void>();

  constructor(db: Database, options: SimCpiOptions = {}) {
    this.#db = db;
    this.#range = parseRange(options.ipRange ?? DEFAULT_SIM_IP_RANGE);
    this.#latency = options.latencyMs ?? 0;
    this.#random = options.random ?? Math.random;
    for (const fault of options.faults ?? []) this.injectFault(fault);
  }

  get ipRange(): string {
    return this.#range.cidr;
  }

  injectFault(fault: SimFault): void {
    if (!(CPI_METHODS as readonly string[]).includes(fault.method)) {
      throw new InputError('faults.method', `unknown CPI method '${fault.method}'`, {
        allowed: CPI_METHODS.join(', '),
      });
    }
    this.#faults.push({ ...fault, seen: 0, fired: 0 });
  }

  clearFaults(): void {
    this.#faults = [];
    this.releaseHangs();
  }

  /** Lets hanging calls go (they then fail), so nothing dangles after a test or a stop. */
  releaseHangs(): void {
    for (const release of this.#hanging) release();
    this.#hanging.clear();
  }

  /**
   * One CPI call's latency and faults. `group` (the instance group the call is about) may be a lookup: it
   * runs only when a fault of this method is set, the one thing the group is for, so calls on a VM cost
   * no `sim_vms` read in the ordinary, fault-free case.
   */
  async #call(method: CpiMethod, group?: string | null | (() => Promise<string | null>)): Promise<void> {
    let instanceGroup: string | null | undefined = typeof group === 'function' ? undefined : group;
    const resolveGroup = async () => {
      if (typeof group === 'function' && instanceGroup === undefined) instanceGroup = await group();
    };
    // Looked up before the latency, as when the caller passed it, whenever a fault may need it.
    if (this.#faults.some((fault) => fault.method === method)) await resolveGroup();
    const latency = typeof this.#latency === 'number' ? this.#latency : (this.#latency[method] ?? 0);
    if (latency > 0) await new Promise((resolve) => setTimeout(resolve, latency));
    for (const fault of this.#faults) {
      if (fault.method !== method) continue;
      await resolveGroup();
      if (fault.instanceGroup !== undefined && fault.instanceGroup !== instanceGroup) continue;
      fault.seen += 1;
      const limit = fault.times ?? (fault.nth !== undefined ? 1 : Infinity);
      if (fault.fired >= limit) continue;
      const hit =
        fault.nth !== undefined
          ? fault.seen === fault.nth || (fault.fired > 0 && fault.seen > fault.nth)
          : fault.probability !== undefined
            ? this.#random() < fault.probability
            : true;
      if (!hit) continue;
      fault.fired += 1;
      if (fault.hang) {
        await new Promise<void>((resolve) => this.#hanging.add(resolve));
        throw new CpiError(
          method,
          'Bosh::Clouds::CloudError',
          `sim CPI: '${method}' was released from a hang`,
        );
      }
      throw new CpiError(
        method,
        'Bosh::Clouds::VMCreationFailed',
        fault.message ??
          `sim CPI: injected failure of '${method}'${instanceGroup ? ` for instance group '${instanceGroup}'` : ''}`,
        false,
      );
    }
  }

  async info(): Promise<CpiInfo> {
    await this.#call('info');
    return { api_version: 2, stemcell_formats: ['sim-raw'] };
  }

  async create_stemcell(_imagePath: string, _cloudProperties: Record<string, unknown>): Promise<string> {
    await this.#call('create_stemcell');
    return `sim-stemcell-${randomUUID()}`;
  }

  async delete_stemcell(_stemcellCid: string): Promise<void> {
    await this.#call('delete_stemcell');
  }

  async create_vm(
    agentId: string,
    stemcellCid: string,
    cloudProperties: Record<string, unknown>,
    networks: Record<string, NetworkSettings>,
    _diskCids: string[],
    env: Record<string, unknown>,
  ): Promise<[string, Record<string, NetworkSettings>]> {
    const groups = ((env.bosh as { groups?: unknown } | undefined)?.groups ?? []) as string[];
    const deployment = groups[1] ?? null;
    const instanceGroup = groups[2] ?? null;
    await this.#call('create_vm', instanceGroup);
    const cid = `sim-vm-${randomUUID()}`;
    const vm = await this.#db.transaction(async (tx) => {
      await tx.query("SELECT pg_advisory_xact_lock(hashtext('director.sim_ips'))");
      // One statement per look at a batch of candidate addresses (it was a read, then two inserts): the VM
      // the Director already asked for with this agent id when it died before recording the answer (its
      // task resumed), else the first free candidate, taken for a new VM. The lock, taken by an earlier
      // statement, makes the statement's snapshot see every address taken before it.
      const claim = async (candidates: string[]) => {
        const { rows } = await tx.query<{ cid: string; ip: string; made: boolean }>(
          `WITH made AS (SELECT cid, ip FROM director.sim_vms WHERE agent_id = $3),
           pick AS (
             SELECT c.ip FROM unnest($1::text[]) WITH ORDINALITY AS c (ip, n)
             WHERE NOT EXISTS (SELECT 1 FROM made)
               AND NOT EXISTS (SELECT 1 FROM director.sim_ips s WHERE s.ip = c.ip)
             ORDER BY c.n LIMIT 1),
           taken AS (INSERT INTO director.sim_ips (ip, vm_cid) SELECT ip, $2 FROM pick RETURNING ip),
           created AS (
             INSERT INTO director.sim_vms
               (cid, agent_id, ip, deployment, instance_group, stemcell_cid, cloud_properties, env)
             SELECT $2, $3, ip, $4, $5, $6, $7, $8 FROM taken RETURNING cid, ip)
           SELECT cid, ip, true AS made FROM made UNION ALL SELECT cid, ip, false FROM created`,
          [
            candidates,
            cid,
            agentId,
            deployment,
            instanceGroup,
            stemcellCid,
            JSON.stringify(cloudProperties),
            JSON.stringify(env),
          ],
        );
        return rows[0];
      };
      // A manual network's reserved IP (an instance keeps its address across recreates), when still free.
      const requested = Object.values(networks)
        .map((n) => n.ip)
        .find((ip): ip is string => typeof ip === 'string');
      if (requested !== undefined && this.#inRange(requested)) {
        const found = await claim([requested]);
        if (found !== undefined) return found;
      }
      // The lowest free address, as BOSH gives out a manual network's: looked up from the lowest that may
      // be free, a batch at a time. Reading every taken address per VM made a 5,000-VM fleet's upgrade
      // quadratic (69 s of 400 in the bench). Another replica may have freed a lower one: still unique.
      for (let from = Math.max(this.#lowestFree, this.#range.first); from <= this.#range.last; from += 64) {
        const batch: string[] = [];
        for (let n = from; n < from + 64 && n <= this.#range.last; n++) batch.push(toIp(n));
        const found = await claim(batch);
        if (found === undefined) continue;
        if (!found.made) this.#lowestFree = fromIp(found.ip) + 1;
        return found;
      }
      // No address left: unless this agent already has its VM, which the first look would have found.
      const found = await claim([]);
      if (found !== undefined) return found;
      throw new CpiError(
        'create_vm',
        'Bosh::Clouds::VMCreationFailed',
        `sim CPI: no free IP address left in ${this.#range.cidr}`,
      );
    });
    const ip = vm.ip;
    return [vm.cid, this.#assigned(networks, ip)];
  }

  /** The networks as the IaaS assigned them: each with the VM's address. */
  #assigned(networks: Record<string, NetworkSettings>, ip: string): Record<string, NetworkSettings> {
    const assigned: Record<string, NetworkSettings> = {};
    for (const [name, settings] of Object.entries(networks)) {
      assigned[name] = {
        ...settings,
        type: 'manual',
        ip,
        netmask: this.#netmask(),
        gateway: toIp(this.#range.first - 1),
      };
    }
    return assigned;
  }

  #inRange(ip: string): boolean {
    if (!/^\d+\.\d+\.\d+\.\d+$/.test(ip)) return false;
    const n = fromIp(ip);
    return n >= this.#range.first && n <= this.#range.last;
  }

  #netmask(): string {
    const bits = Number(this.#range.cidr.split('/')[1]);
    return toIp(bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0);
  }

  async delete_vm(vmCid: string): Promise<void> {
    await this.#call('delete_vm', () => this.#groupOf(vmCid));
    // The VM, its address and its disks' attachment in one statement (it was a transaction of three).
    const freed = await this.#db.query<{ ip: string }>(
      `WITH vm AS (DELETE FROM director.sim_vms WHERE cid = $1),
       detached AS (UPDATE director.sim_disks SET vm_cid = NULL WHERE vm_cid = $1)
       DELETE FROM director.sim_ips WHERE vm_cid = $1 RETURNING ip`,
      [vmCid],
    );
    for (const { ip } of freed.rows) this.#lowestFree = Math.min(this.#lowestFree, fromIp(ip));
  }

  async has_vm(vmCid: string): Promise<boolean> {
    await this.#call('has_vm');
    const { rowCount } = await this.#db.query('SELECT 1 FROM director.sim_vms WHERE cid = $1', [vmCid]);
    return rowCount > 0;
  }

  async reboot_vm(vmCid: string): Promise<void> {
    await this.#call('reboot_vm', () => this.#groupOf(vmCid));
    await this.#requireVm('reboot_vm', vmCid);
  }

  async set_vm_metadata(vmCid: string, metadata: Record<string, string>): Promise<void> {
    await this.#call('set_vm_metadata', metadata.instance_group ?? (() => this.#groupOf(vmCid)));
    // The update finds the VM or not: one statement where a lookup and an update were two.
    const { rowCount } = await this.#db.query('UPDATE director.sim_vms SET metadata = $2 WHERE cid = $1', [
      vmCid,
      JSON.stringify(metadata),
    ]);
    if (rowCount === 0) {
      throw new CpiError('set_vm_metadata', 'Bosh::Clouds::VMNotFound', `VM '${vmCid}' not found`);
    }
  }

  async create_disk(
    sizeMb: number,
    _cloudProperties: Record<string, unknown>,
    vmLocality: string | null,
  ): Promise<string> {
    await this.#call('create_disk', vmLocality ? () => this.#groupOf(vmLocality) : null);
    const cid = `sim-disk-${randomUUID()}`;
    await this.#db.query('INSERT INTO director.sim_disks (cid, size_mb) VALUES ($1, $2)', [cid, sizeMb]);
    return cid;
  }

  async delete_disk(diskCid: string): Promise<void> {
    await this.#call('delete_disk');
    await this.#db.query('DELETE FROM director.sim_disks WHERE cid = $1', [diskCid]);
  }

  async has_disk(diskCid: string): Promise<boolean> {
    await this.#call('has_disk');
    const { rowCount } = await this.#db.query('SELECT 1 FROM director.sim_disks WHERE cid = $1', [diskCid]);
    return rowCount > 0;
  }

  async attach_disk(vmCid: string, diskCid: string): Promise<unknown> {
    await this.#call('attach_disk', () => this.#groupOf(vmCid));
    // The VM check and the attach in one statement (they were two): the disk is attached only to a VM
    // that exists, and the answer says whether it did.
    const { rows } = await this.#db.query<{ found: boolean }>(
      `WITH vm AS (SELECT cid FROM director.sim_vms WHERE cid = $2),
            attached AS (UPDATE director.sim_disks SET vm_cid = $2
                         WHERE cid = $1 AND EXISTS (SELECT 1 FROM vm) RETURNING cid)
       SELECT EXISTS (SELECT 1 FROM vm) AS found`,
      [diskCid, vmCid],
    );
    if (rows[0]?.found !== true) {
      throw new CpiError('attach_disk', 'Bosh::Clouds::VMNotFound', `VM '${vmCid}' not found`);
    }
    return { path: '/dev/sdc' };
  }

  async detach_disk(vmCid: string, diskCid: string): Promise<void> {
    await this.#call('detach_disk', () => this.#groupOf(vmCid));
    await this.#db.query('UPDATE director.sim_disks SET vm_cid = NULL WHERE cid = $1 AND vm_cid = $2', [
      diskCid,
      vmCid,
    ]);
  }

  /** The sim's VM records (for tests and the sim agent). */
  async vms(deployment?: string): Promise<SimVm[]> {
    const { rows } = await this.#db.query<{
      cid: string;
      agent_id: string;
      ip: string;
      deployment: string | null;
      instance_group: string | null;
      metadata: Record<string, string> | null;
    }>(
      `SELECT cid, agent_id, ip, deployment, instance_group, metadata FROM director.sim_vms
       ${deployment === undefined ? '' : 'WHERE deployment = $1'} ORDER BY created_at, cid`,
      deployment === undefined ? [] : [deployment],
    );
    return rows.map((row) => ({
      cid: row.cid,
      agentId: row.agent_id,
      ip: row.ip,
      deployment: row.deployment,
      instanceGroup: row.instance_group,
      metadata: row.metadata ?? {},
    }));
  }

  async #groupOf(vmCid: string): Promise<string | null> {
    const { rows } = await this.#db.query<{ instance_group: string | null }>(
      'SELECT instance_group FROM director.sim_vms WHERE cid = $1',
      [vmCid],
    );
    return rows[0]?.instance_group ?? null;
  }

  async #requireVm(method: string, vmCid: string): Promise<void> {
    const { rowCount } = await this.#db.query('SELECT 1 FROM director.sim_vms WHERE cid = $1', [vmCid]);
    if (rowCount === 0) throw new CpiError(method, 'Bosh::Clouds::VMNotFound', `VM '${vmCid}' not found`);
  }
}

function toIp(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

function fromIp(ip: string): number {
  const parts = ip.split('.').map(Number);
  if (parts.length !== 4 || parts.some((p) => !Number.isInteger(p) || p < 0 || p > 255)) return NaN;
  return ((parts[0]! << 24) >>> 0) + (parts[1]! << 16) + (parts[2]! << 8) + parts[3]!;
}

/** The usable addresses of a CIDR: the first is kept as the gateway, the last as broadcast. */
function parseRange(cidr: string): { first: number; last: number; cidr: string } {
  const [address, bitsText] = cidr.split('/');
  const bits = Number(bitsText);
  const base = fromIp(address ?? '');
  if (!Number.isInteger(bits) || bits < 8 || bits > 30 || Number.isNaN(base) || base >>> 24 !== 127) {
    throw new InputError('sim.ip_range', `'${cidr}' is not a loopback CIDR the sim CPI can use`, {
      allowed: 'a CIDR inside 127.0.0.0/8 with a prefix of /8 to /30, e.g. 127.1.0.0/16',
    });
  }
  const size = 2 ** (32 - bits);
  const network = base - (base % size);
  return { first: network + 2, last: network + size - 2, cidr: `${toIp(network)}/${bits}` };
}
