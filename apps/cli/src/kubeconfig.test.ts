import { mkdtemp, readFile, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { kubeconfigPath, writeMergedKubeconfig } from './kubeconfig.js';

const other = {
  apiVersion: 'v1',
  kind: 'Config',
  clusters: [{ name: 'other', cluster: { server: 'https://other.example:6443' } }],
  users: [{ name: 'bob', user: { token: 'abc' } }],
  contexts: [{ name: 'other', context: { cluster: 'other', user: 'bob' } }],
  'current-context': 'other',
};

const incoming = (server: string) =>
  stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'c1', cluster: { server } }],
    users: [{ name: 'alice', user: { token: 'x' } }],
    contexts: [{ name: 'c1', context: { cluster: 'c1', user: 'alice' } }],
    'current-context': 'c1',
  });

describe('kubeconfig merging', () => {
  it('adds the cluster next to an unrelated context, keeps the file mode and switches context', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'pks-kube-'));
    const path = join(dir, 'config');
    await writeFile(path, stringify(other), { mode: 0o640 });
    const env = { KUBECONFIG: path };
    await writeMergedKubeconfig(env, incoming('https://a:8443'));
    await writeMergedKubeconfig(env, incoming('https://b:8443'));
    const merged = parse(await readFile(path, 'utf8'));
    expect(merged.clusters).toEqual([
      other.clusters[0],
      { name: 'c1', cluster: { server: 'https://b:8443' } },
    ]);
    expect(merged.users.map((u: { name: string }) => u.name)).toEqual(['bob', 'alice']);
    expect(merged.contexts.map((c: { name: string }) => c.name)).toEqual(['other', 'c1']);
    expect(merged['current-context']).toBe('c1');
    expect((await stat(path)).mode & 0o777).toBe(0o640);
  });

  it('creates ~/.kube/config with mode 0600 when there is none, and uses the first KUBECONFIG entry', async () => {
    const home = await mkdtemp(join(tmpdir(), 'pks-home-'));
    await writeMergedKubeconfig({ HOME: home }, incoming('https://a:8443'));
    expect((await stat(join(home, '.kube', 'config'))).mode & 0o777).toBe(0o600);
    expect(kubeconfigPath({ KUBECONFIG: `/a:/b` })).toBe('/a');
  });
});
