import type { TokenVerifier } from '@openpks/auth';
import type { Database } from '@openpks/db';
import { issueCertificate } from '@openpks/pki';
import type { Logger } from '@openpks/role';
import type { AgentInstance, ErrandOutcome } from '../cpi/agent.js';
import type { Job } from '../manifest/manifest.js';
import type { SimNode } from '../sim/kubeApi.js';
import { StoredClusterRoleBindings } from '../sim/rbac.js';
import { KUBE_APISERVER_JOB, SimAgent } from '../sim/simAgent.js';
import type { Deployer } from './deployer/deployer.js';
import type { DeploymentStore } from './store/deploymentStore.js';
import type { DirectorStores } from './store/index.js';
import type { VariableStore } from './store/variableStore.js';
import { ensureVariables, type VariableValue } from './variables.js';

/** The job that makes an instance a Kubernetes worker: a node of its cluster. */
const KUBELET_JOB = 'kubelet';

/**
 * The sim's agent as the embedded Director wires it: its masters serve the Kubernetes API with the
 * certificate their job was given (or one the sim issues from the deployment's CA), list the
 * deployment's workers as nodes, and keep ClusterRoleBindings in the Director's database.
 */
export function createSimAgent(deps: {
  db: Database;
  stores: DirectorStores;
  kubeVerifier: TokenVerifier;
  kubePort: number;
  errands?: Record<string, ErrandOutcome> | undefined;
  logger: Logger;
}): SimAgent {
  const { db, stores } = deps;
  return new SimAgent({
    kubeVerifier: deps.kubeVerifier,
    kubePort: deps.kubePort,
    kubeCredentials: (instance) => kubeCredentials(stores.variables, instance),
    clusterRoleBindings: (deployment) => new StoredClusterRoleBindings(db, deployment),
    nodes: (deployment) => workerNodes(stores.deployments, deployment),
    ...(deps.errands ? { errands: deps.errands } : {}),
    logger: deps.logger,
  });
}

/**
 * After a Director restart, the sim masters of deployed clusters serve again, as their VMs' jobs would
 * after a reboot. The jobs' properties (secrets included) are not stored: they are rendered again from
 * the manifest and the variables.
 */
export async function restartSimMasters(deps: {
  agent: SimAgent;
  deployer: Deployer;
  deployments: DeploymentStore;
  logger: Logger;
}): Promise<void> {
  const { agent, deployer, deployments, logger } = deps;
  for (const deployment of await deployments.withVms()) {
    const jobs = await deployer.renderedJobs(deployment).catch(() => new Map<string, Job[]>());
    for (const instance of await deployments.instances(deployment)) {
      if (instance.vm_cid === null || instance.config_hash === null) continue;
      await agent
        .start({
          deployment,
          instanceGroup: instance.instance_group,
          index: instance.index,
          uuid: instance.uuid,
          vmCid: instance.vm_cid,
          ip: instance.ips[0] ?? '',
          jobs: jobs.get(instance.instance_group) ?? instance.jobs,
        })
        .catch((error: unknown) => logger.warn({ err: error, deployment }, 'sim master did not come back'));
    }
  }
}

/**
 * The serving certificate of a sim master: what its kube-apiserver job's `tls.kubernetes` property holds
 * (kubo's `((tls-kubernetes))` variable, with the external hostname and, through `consumes`, the master
 * IPs as SANs), as the real job serves it. A manifest that gives the job none gets a leaf for the VM's IP
 * signed by the deployment's CA variable.
 */
async function kubeCredentials(
  variables: VariableStore,
  instance: AgentInstance,
): Promise<{ cert: string; key: string }> {
  const apiserver = instance.jobs.find((job) => job.name === KUBE_APISERVER_JOB);
  const tls = apiserver?.properties.tls as { kubernetes?: unknown } | undefined;
  const given = tls?.kubernetes as { certificate?: unknown; private_key?: unknown } | undefined;
  if (typeof given?.certificate === 'string' && typeof given.private_key === 'string') {
    return { cert: given.certificate, key: given.private_key };
  }
  const { deployment, ip } = instance;
  const values = await variables.all(deployment);
  const isCa = (value: VariableValue | undefined): value is Record<string, string> =>
    typeof value === 'object' &&
    value.certificate !== undefined &&
    value.ca === value.certificate &&
    value.private_key !== undefined;
  const serving = values.get('tls-kubernetes');
  const cas = [...values.values()].filter(isCa);
  let ca = cas.find((value) => typeof serving === 'object' && serving.ca === value.certificate) ?? cas[0];
  if (ca === undefined) {
    const generated = await ensureVariables(variables, deployment, [
      {
        name: 'sim-kubernetes-ca',
        type: 'certificate',
        options: { is_ca: true, common_name: 'sim kubernetes CA' },
      },
    ]);
    ca = generated.get('sim-kubernetes-ca') as Record<string, string>;
  }
  const leaf = await issueCertificate(
    { certificatePem: ca.certificate!, privateKeyPem: ca.private_key! },
    {
      commonName: 'kube-apiserver (sim)',
      hostnames: [ip, 'localhost', 'kubernetes', 'kubernetes.default', 'master.cfcr.internal'],
    },
  );
  return { cert: leaf.certificatePem, key: leaf.privateKeyPem };
}

/** The deployment's worker VMs as its masters list them (`kubectl get nodes`). */
async function workerNodes(deployments: DeploymentStore, deployment: string): Promise<SimNode[]> {
  return (await deployments.runningInstancesOf(deployment, KUBELET_JOB)).map((row) => ({
    name: row.vm_cid!,
    ip: row.ips[0] ?? '',
    uuid: row.uuid,
    createdAt: new Date(row.vm_created_at!),
  }));
}
