import { chmod, mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { parse, stringify } from 'yaml';

/** The file `get-credentials` writes: the first `$KUBECONFIG` entry (as kubectl does), else `~/.kube/config`. */
export function kubeconfigPath(env: NodeJS.ProcessEnv): string {
  const first = (env.KUBECONFIG ?? '').split(delimiter).find((p) => p !== '');
  return first ?? join(env.HOME ?? homedir(), '.kube', 'config');
}

interface Named {
  name: string;
  [key: string]: unknown;
}

type Kubeconfig = Record<string, unknown> & {
  clusters?: Named[];
  users?: Named[];
  contexts?: Named[];
};

/**
 * Adds or replaces only the incoming cluster, user and context entries, keeps every other entry and the
 * file's mode, and makes the incoming context current (PKS `get-credentials`).
 */
export function mergeKubeconfig(existing: Kubeconfig, incoming: Kubeconfig): Kubeconfig {
  const merged: Kubeconfig = {
    apiVersion: 'v1',
    kind: 'Config',
    preferences: {},
    ...existing,
  };
  for (const key of ['clusters', 'users', 'contexts'] as const) {
    const list = [...(Array.isArray(existing[key]) ? existing[key] : [])];
    for (const entry of incoming[key] ?? []) {
      const i = list.findIndex((e) => e.name === entry.name);
      if (i >= 0) list[i] = entry;
      else list.push(entry);
    }
    merged[key] = list;
  }
  const current = incoming['current-context'];
  if (typeof current === 'string') merged['current-context'] = current;
  return merged;
}

export async function writeMergedKubeconfig(env: NodeJS.ProcessEnv, incomingYaml: string): Promise<string> {
  const path = kubeconfigPath(env);
  let existing: Kubeconfig = {};
  let mode = 0o600;
  try {
    existing = (parse(await readFile(path, 'utf8')) as Kubeconfig | null) ?? {};
    mode = (await stat(path)).mode & 0o777;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  }
  const incoming = parse(incomingYaml) as Kubeconfig;
  await writeFile(path, stringify(mergeKubeconfig(existing, incoming)), { mode });
  await chmod(path, mode);
  const current = incoming['current-context'];
  return typeof current === 'string' ? current : '';
}
