// Prints a real `pks` session against a whole PKS on loopback, for docs/cli.md.
// Run after a build: `node apps/cli/scripts/transcript.mjs` (from the repo root).
import { execFile, spawn } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { startTestApi } from '@openpks/api/testing';
import { startTestDirector } from '@openpks/bosh/testing';
import { startTestBroker } from '@openpks/broker/testing';
import { testDatabaseBackends } from '@openpks/db/testing';
import { startTestUaa } from '@openpks/uaa/testing';

const bin = fileURLToPath(new URL('../dist/bin/pks.js', import.meta.url));
const db = await testDatabaseBackends()[0].open();
const uaa = await startTestUaa({ db });
const bosh = await startTestDirector({ uaa, db, ipRange: '127.1.81.0/24' });
const broker = await startTestBroker({ uaa, bosh, db });
const api = await startTestApi({
  uaa,
  db,
  broker: { url: broker.url, ...broker.credentials },
  director: bosh.client,
});
await uaa.createUser('alice', 'alice-password-1', ['pks.clusters.manage']);
const home = await mkdtemp(join(tmpdir(), 'pks-transcript-'));
await writeFile(join(home, 'ca.pem'), api.caPem);
const env = {
  PATH: process.env.PATH,
  HOME: home,
  KUBECONFIG: join(home, '.kube/config'),
  PKS_UAA_URL: uaa.url,
  PKS_USER_PASSWORD: 'alice-password-1',
};
process.stdout.write(`$ export PKS_UAA_URL=${uaa.url}   # UAA of this test stack\n`);

const pks = (args, input = '') =>
  new Promise((resolve) => {
    process.stdout.write(`$ pks ${args.join(' ')}\n`);
    const child = spawn(process.execPath, [bin, ...args], { env, cwd: home });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    child.on('close', (code) => {
      process.stdout.write(out.replaceAll(home, '~'));
      if (code !== 0) process.stdout.write(`(exit ${code})\n`);
      resolve();
    });
    child.stdin.end(input);
  });

await pks(['login', '-a', api.url, '-u', 'alice', '-p', 'wrong-password', '--ca-cert', 'ca.pem']);
await pks(['login', '-a', api.url, '-u', 'alice', '-p', 'alice-password-1', '--ca-cert', 'ca.pem']);
await pks(['plans']);
await pks(['create-cluster', 'demo', '-e', 'demo.pks.example.test', '-p', 'small', '-n', '2']);
await new Promise((r) => setTimeout(r, 3000));
await pks(['clusters']);
await pks(['cluster', 'demo']);
await pks(['get-credentials', 'demo']);
process.stdout.write('$ kubectl get nodes\n');
const { stdout } = await promisify(execFile)('kubectl', ['get', 'nodes'], {
  env: { ...process.env, ...env },
});
process.stdout.write(stdout);
await pks(['resize', 'demo', '-n', '3', '--non-interactive', '--wait']);
await pks(['cluster', 'demo', '--json']);
await pks(['cluster', 'nope']);
await pks(['network-profiles']);
await pks(['delete-cluster', 'demo'], 'n\n');
await pks(['delete-cluster', 'demo', '--wait'], 'y\n');
await pks(['logout']);

await api.stop();
await broker.stop();
await bosh.stop();
await uaa.stop();
await db.close();
