import { connect } from 'node:net';
import { Lifecycle, type Manifest } from '../manifest/manifest.js';
import { KUBE_APISERVER_JOB } from '../sim/simAgent.js';
import type { InstanceRow } from './store/deploymentStore.js';

/** How long a look at a sim master's Kubernetes API may take (BOSH gives an agent 5 s for get_state). */
const PROBE_TIMEOUT_MS = 1_000;

/**
 * One line of `GET /deployments/:d/instances?format=full` (and `/vms?format=full`): the result of the
 * `vms` task, as BOSH's `Jobs::VmState#process_instance` writes it and bosh-cli `director/vms.go`
 * (`VMInfo`) reads it for `bosh instances --ps/--details` and `bosh vms --vitals`.
 *
 * Only what is known is reported. A sim job "runs" as the sim agent's record while its instance is
 * started on a VM, except `kube-apiserver`, which really serves: it is `running` only when its port
 * answers now. Of the vitals only the uptime is known (the VM record's age); CPU, memory, load and disk
 * use are not measured by the sim, so they are left out rather than made up.
 */
export async function instanceDetails(
  rows: readonly InstanceRow[],
  manifest: Manifest | undefined,
  options: {
    kubePort: number;
    /** The uploaded stemcells: an instance records its stemcell by OS (or name) and version. */
    stemcells: readonly { name: string; operating_system: string; version: string }[];
    now?: Date;
  },
): Promise<Record<string, unknown>[]> {
  const now = options.now ?? new Date();
  const stemcellOf = (recorded: string | null) => {
    const [osOrName, version] = (recorded ?? '').split('/');
    const found = options.stemcells.find(
      (s) => (s.name === osOrName || s.operating_system === osOrName) && s.version === version,
    );
    return found === undefined ? undefined : { name: found.name, version: found.version, api_version: 2 };
  };
  return Promise.all(
    rows.map(async (row) => {
      const vmType = manifest?.instanceGroups.find((g) => g.name === row.instance_group)?.vmType ?? null;
      const processes = row.vm_cid === null ? [] : await processesOf(row, options.kubePort);
      const jobState = row.vm_cid === null ? null : jobStateOf(row, processes);
      return {
        vm_cid: row.vm_cid,
        // Whether the VM is the instance's active one; the sim keeps no inactive VMs.
        active: row.vm_cid === null ? null : true,
        vm_created_at: row.vm_created_at === null ? null : rubyTime(new Date(row.vm_created_at)),
        cloud_properties: {},
        disk_cid: row.disk_cid,
        disk_cids: row.disk_cid ? [row.disk_cid] : [],
        ips: row.ips,
        dns: [],
        // An agent id without a VM is only the one its next VM will be made for.
        agent_id: row.vm_cid === null ? null : row.agent_id,
        job_name: row.instance_group,
        index: row.index,
        id: row.uuid,
        az: row.az,
        bootstrap: row.bootstrap,
        ignore: false,
        state: row.state,
        job_state: jobState,
        // The name newer clients read the same state under.
        process_state: jobState,
        resource_pool: vmType,
        vm_type: vmType,
        vitals: row.vm_cid === null || row.vm_created_at === null ? null : vitalsOf(row.vm_created_at, now),
        processes,
        resurrection_paused: false,
        ...(row.vm_cid !== null && stemcellOf(row.stemcell) ? { stemcell: stemcellOf(row.stemcell) } : {}),
        expects_vm: row.lifecycle === Lifecycle.SERVICE,
      };
    }),
  );
}

/** A process as monit reports it; no uptime, CPU or memory: the sim does not know since when a job runs. */
interface ProcessState {
  name: string;
  state: 'running' | 'failing' | 'stopped';
}

async function processesOf(row: InstanceRow, kubePort: number): Promise<ProcessState[]> {
  const started = row.state === 'started' && row.config_hash !== null;
  return Promise.all(
    row.jobs.map(async (job): Promise<ProcessState> => {
      if (!started) return { name: job.name, state: 'stopped' };
      const serving =
        job.name !== KUBE_APISERVER_JOB || (await answers(row.ips[0] ?? '', kubePort, PROBE_TIMEOUT_MS));
      return { name: job.name, state: serving ? 'running' : 'failing' };
    }),
  );
}

/** monit's summary of an instance: failing if any process fails, stopped if stopped, else running. */
function jobStateOf(row: InstanceRow, processes: readonly ProcessState[]): string {
  if (processes.some((p) => p.state === 'failing')) return 'failing';
  if (row.state !== 'started' || row.config_hash === null) return 'stopped';
  return 'running';
}

function vitalsOf(createdAt: Date, now: Date): Record<string, unknown> {
  return { uptime: { secs: secondsSince(createdAt, now) } };
}

function secondsSince(date: Date, now: Date): number {
  return Math.max(0, Math.floor((now.getTime() - new Date(date).getTime()) / 1000));
}

/** Ruby's `Time#to_s` in UTC (`2026-01-09 06:23:25 UTC`), which is how BOSH's task result carries times. */
export function rubyTime(date: Date): string {
  return `${date.toISOString().slice(0, 19).replace('T', ' ')} UTC`;
}

/** Whether something accepts a TCP connection at host:port within the timeout. */
function answers(host: string, port: number, timeoutMs: number): Promise<boolean> {
  if (host === '') return Promise.resolve(false);
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}
