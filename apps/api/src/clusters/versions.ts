import { defaultServiceDeployment } from '@openpks/broker';

/** What PKS reports as its own and Kubernetes' version (PKS 1.6.0 ships Kubernetes 1.15.5). */
export const PKS_VERSION = '1.6.0-openpks';
export const K8S_VERSION = '1.15.5';

export interface Release {
  name: string;
  version: string;
}

/**
 * The releases this installation's broker deploys (its service deployment, from the broker's door). A
 * deployment that runs exactly these runs this PKS version; its kubo release carries Kubernetes.
 */
const INSTALLED_RELEASES: readonly Release[] = defaultServiceDeployment('installation').releases.map((r) => ({
  name: r.name,
  version: r.version,
}));
const KUBERNETES_RELEASE = 'kubo';

/** The Kubernetes version of each kubo release this API knows (the one it ships). */
const KUBERNETES_OF_KUBO = new Map(
  INSTALLED_RELEASES.filter((r) => r.name === KUBERNETES_RELEASE).map((r) => [r.version, K8S_VERSION]),
);

/**
 * The PKS and Kubernetes versions of a deployment that runs `releases`, as far as they are known: the PKS
 * version when the release set is this installation's, Kubernetes from the kubo release. Null for what a
 * release set this API does not know cannot tell (never a guess).
 */
export function versionsOfReleases(releases: readonly Release[]): {
  pksVersion: string | null;
  kubernetesVersion: string | null;
} {
  const key = (r: Release) => `${r.name}/${r.version}`;
  const running = new Set(releases.map(key));
  const installed =
    releases.length === INSTALLED_RELEASES.length && INSTALLED_RELEASES.every((r) => running.has(key(r)));
  const kubo = releases.find((r) => r.name === KUBERNETES_RELEASE);
  return {
    pksVersion: installed ? PKS_VERSION : null,
    kubernetesVersion: kubo === undefined ? null : (KUBERNETES_OF_KUBO.get(kubo.version) ?? null),
  };
}
