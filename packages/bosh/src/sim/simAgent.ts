import type { Logger } from '@openpks/role';
import type { TokenVerifier } from '@openpks/auth';
import type { Agent, AgentInstance, ErrandOutcome } from '../cpi/agent.js';
import { SimKubeApi, type SimNode } from './kubeApi.js';
import { MemoryClusterRoleBindings, type ClusterRoleBindings } from './rbac.js';

export interface SimAgentOptions {
  /** Verifies kubeconfig credentials at sim masters; without it masters serve no Kubernetes API. */
  kubeVerifier?: TokenVerifier | undefined;
  /** Port the sim masters' Kubernetes API listens on at their VM IP (8443 as on PKS masters). */
  kubePort: number;
  /** The master's serving certificate: the one its kube-apiserver job is given, or one the sim issues. */
  kubeCredentials: (instance: AgentInstance) => Promise<{ cert: string; key: string }>;
  /**
   * Each deployment's ClusterRoleBindings (what its etcd would hold); default: in memory, per agent. The
   * embedded Director keeps them in its database.
   */
  clusterRoleBindings?: (deployment: string) => ClusterRoleBindings;
  /** The deployment's worker nodes as the master reports them. */
  nodes: (deployment: string) => Promise<SimNode[]>;
  /** Outcomes of errands by name; by default an errand succeeds with a line of sim output. */
  errands?: Record<string, ErrandOutcome>;
  logger: Logger;
}

/** The job that makes an instance a Kubernetes master. */
export const KUBE_APISERVER_JOB = 'kube-apiserver';

/**
 * The apiserver's `--client-ca-file`, from its job's properties as kubo renders them: the CA of its
 * `tls.kubernetes` certificate (kubo_ca, the cluster CA) and any further CA in `client-ca` (PEM).
 */
export function clientCasOf(properties: Record<string, unknown>): string[] {
  const tls = properties.tls as { kubernetes?: { ca?: unknown } } | undefined;
  const cas = [tls?.kubernetes?.ca, properties['client-ca']];
  return cas.filter((ca): ca is string => typeof ca === 'string' && ca.includes('BEGIN CERTIFICATE'));
}

/**
 * The sim's agent: jobs "run" as records, except `kube-apiserver`, which really serves a small Kubernetes
 * API on the master VM's loopback IP, so kubectl and kubeconfigs can be tested against a deployed cluster.
 */
export class SimAgent implements Agent {
  readonly #masters = new Map<string, Promise<SimKubeApi | undefined>>();
  /** Per deployment, what etcd would hold for all its masters. */
  readonly #rbac = new Map<string, ClusterRoleBindings>();

  constructor(private readonly options: SimAgentOptions) {}

  async start(instance: AgentInstance): Promise<void> {
    if (!instance.jobs.some((job) => job.name === KUBE_APISERVER_JOB)) return;
    if (this.options.kubeVerifier === undefined || instance.ip === '') return;
    const running = this.#masters.get(instance.vmCid);
    if (running !== undefined) {
      await this.stop(instance);
    }
    const verifier = this.options.kubeVerifier;
    const apiserver = instance.jobs.find((job) => job.name === KUBE_APISERVER_JOB);
    let rbac = this.#rbac.get(instance.deployment);
    if (rbac === undefined) {
      rbac = this.options.clusterRoleBindings?.(instance.deployment) ?? new MemoryClusterRoleBindings();
      this.#rbac.set(instance.deployment, rbac);
    }
    const starting = (async () => {
      const { cert, key } = await this.options.kubeCredentials(instance);
      const api = await SimKubeApi.start({
        host: instance.ip,
        port: this.options.kubePort,
        cert,
        key,
        verifier,
        clientCas: clientCasOf(apiserver?.properties ?? {}),
        rbac,
        nodes: () => this.options.nodes(instance.deployment),
      });
      this.options.logger.info(
        { deployment: instance.deployment, vm: instance.vmCid, url: api.url },
        'sim master serves the Kubernetes API',
      );
      return api;
    })();
    this.#masters.set(instance.vmCid, starting);
    try {
      await starting;
    } catch (error) {
      this.#masters.delete(instance.vmCid);
      throw new Error(
        `sim: kube-apiserver on ${instance.ip}:${this.options.kubePort} failed to start: ${(error as Error).message}`,
        {
          cause: error,
        },
      );
    }
  }

  async stop(instance: AgentInstance): Promise<void> {
    const running = this.#masters.get(instance.vmCid);
    if (running === undefined) return;
    this.#masters.delete(instance.vmCid);
    const api = await running.catch(() => undefined);
    await api?.close();
  }

  async runErrand(instance: AgentInstance, errand: string): Promise<ErrandOutcome> {
    return (
      this.options.errands?.[errand] ?? {
        exitCode: 0,
        stdout: `sim: errand '${errand}' ran on ${instance.instanceGroup}/${instance.uuid} (${instance.ip})\n`,
        stderr: '',
      }
    );
  }

  /** The Kubernetes API URLs served now, by VM cid. */
  masters(): string[] {
    return [...this.#masters.keys()];
  }

  async close(): Promise<void> {
    const all = [...this.#masters.values()];
    this.#masters.clear();
    await Promise.all(all.map(async (starting) => (await starting.catch(() => undefined))?.close()));
  }
}
