import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { InputError, InputErrors } from '@openpks/domain';
import { loadConfig, parseConfig } from './config.js';

function writeConfig(yaml: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'pks-config-'));
  const path = join(dir, 'pks.yaml');
  writeFileSync(path, yaml);
  return path;
}

function configError(load: () => unknown): InputErrors {
  try {
    load();
  } catch (error) {
    if (error instanceof InputErrors) return error;
    throw error;
  }
  throw new Error('expected the configuration to be rejected');
}

describe('built-in defaults', () => {
  const config = loadConfig({ env: {}, cwd: '/srv/pks' });

  it('ships the small, medium and large plans with 1, 3 and 5 masters', () => {
    expect(
      config.plans.map((p) => [p.name, p.master.instances, p.worker.instances, p.worker.maxInstances]),
    ).toEqual([
      ['small', 1, 3, 10],
      ['medium', 3, 3, 50],
      ['large', 5, 5, 100],
    ]);
  });

  it('gives every plan a stable UUID, drain settings and VM types', () => {
    const again = loadConfig({ env: {} });
    expect(config.plans[0]!.id).toMatch(
      /^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
    );
    expect(again.plans.map((p) => p.id)).toEqual(config.plans.map((p) => p.id));
    expect(new Set(config.plans.map((p) => p.id)).size).toBe(3);
    expect(config.plans[0]!.drain).toEqual({
      kubeletDrainTimeout: 0,
      kubeletDrainGracePeriod: 10,
      kubeletDrainForce: false,
      kubeletDrainIgnoreDaemonsets: true,
      kubeletDrainDeleteLocalData: true,
      kubeletDrainForceNode: false,
    });
    expect(config.plans[2]!.worker.vmType).toBe('xlarge');
  });

  it('binds every role to loopback on its PKS port, with an embedded Director and NSX', () => {
    expect(config.roles).toEqual({
      uaa: { host: '127.0.0.1', port: 8443 },
      api: { host: '127.0.0.1', port: 9021 },
      broker: { host: '127.0.0.1', port: 8080 },
      director: { host: '127.0.0.1', port: 25555 },
      nsx: { host: '127.0.0.1', port: 8444 },
      console: { host: '127.0.0.1', port: 3000 },
    });
    expect(config.console).toEqual({});
    expect(config.director).toEqual({
      type: 'embedded',
      workers: 5,
      sim: { ipRange: '127.1.0.0/16', latencyMs: 0, kubePort: 8443, cpiTimeoutMs: 60_000, faults: [] },
    });
    expect(config.broker).toEqual({
      oidc: {
        usernameClaim: 'user_name',
        usernamePrefix: 'oidc:',
        groupsClaim: 'roles',
        groupsPrefix: 'oidc:',
      },
      upgrades: { canaries: 0, maxInFlight: 1, attemptLimit: 5, attemptIntervalSeconds: 60 },
    });
    expect(config.nsx).toEqual({
      type: 'embedded',
      topology: {
        t0RouterId: 'pks-t0',
        nodeIpBlockId: 'pks-node-ip-block',
        podIpBlockId: 'pks-pod-ip-block',
        floatingIpPoolId: 'pks-floating-ip-pool',
      },
      sim: {
        nodeIpBlockCidr: '172.24.0.0/14',
        podIpBlockCidr: '172.28.0.0/14',
        floatingIpPool: { cidr: '192.168.160.0/24', start: '192.168.160.10', end: '192.168.160.250' },
      },
    });
    expect(config.dataDir).toBe('/srv/pks/.pks-data');
    expect(config.uaa.accessTokenValidity).toBe(600);
    expect(config.uaa.refreshTokenValidity).toBe(21600);
    expect(config.source).toBe('built-in defaults');
  });
});

describe('pks.yaml', () => {
  it('reads plans, targets and paths relative to the file', () => {
    const path = writeConfig(`
data_dir: data
director:
  type: remote
  url: https://10.0.0.6:25555
  ca_file: certs/director-ca.pem
  client_id: pks_director
  client_secret: s3cret
nsx:
  type: manager
  url: https://nsx.corp.local
  username: admin
  password: nsx-pass
plans:
  dev:
    master: { instances: 1 }
    worker: { instances: 2, max_instances: 4, azs: [az1, az2] }
    allow_privileged: true
    kubelet_drain_timeout: 15
`);
    const config = loadConfig({ path, env: {} });
    const dir = join(path, '..');
    expect(config.source).toBe(path);
    expect(config.dataDir).toBe(join(dir, 'data'));
    expect(config.director).toEqual({
      type: 'remote',
      url: 'https://10.0.0.6:25555',
      caFile: join(dir, 'certs/director-ca.pem'),
      clientId: 'pks_director',
      clientSecret: 's3cret',
    });
    expect(config.nsx).toMatchObject({
      type: 'manager',
      username: 'admin',
      topology: { t0RouterId: 'pks-t0' },
    });
    expect(config.plans).toHaveLength(1);
    expect(config.plans[0]).toMatchObject({
      name: 'dev',
      allowPrivileged: true,
      worker: { instances: 2, maxInstances: 4, azs: ['az1', 'az2'], maxInFlight: 4 },
      drain: { kubeletDrainTimeout: 15 },
    });
  });

  it('takes its path from PKS_CONFIG', () => {
    const path = writeConfig('external_host: pks.example.com\n');
    expect(loadConfig({ env: { PKS_CONFIG: path } }).externalHost).toBe('pks.example.com');
  });

  it('names a missing file', () => {
    expect(() => loadConfig({ path: '/nonexistent/pks.yaml', env: {} })).toThrowError(
      /cannot read config file \/nonexistent\/pks.yaml/,
    );
  });

  it('reports YAML syntax errors with their line', () => {
    const path = writeConfig('plans:\n  small: [\n');
    const error = configError(() => loadConfig({ path, env: {} }));
    expect(error.message).toContain('is not valid YAML');
    expect(error.errors[0]!.message).toMatch(/line \d+, column \d+/);
  });
});

describe('configuration errors name the field and what is allowed', () => {
  it('rejects a plan whose master count is not 1, 3 or 5', () => {
    const error = configError(() =>
      parseConfig({
        plans: { odd: { master: { instances: 2 }, worker: { instances: 1, max_instances: 3 } } },
      }),
    );
    expect(error.errors.map((e) => e.field)).toEqual(['plans.odd.master.instances']);
    expect(error.message).toContain('must be one of 1, 3, 5');
  });

  it('rejects a plan whose default workers exceed its maximum', () => {
    const error = configError(() =>
      parseConfig({
        plans: { small: { master: { instances: 1 }, worker: { instances: 12, max_instances: 10 } } },
      }),
    );
    expect(error.errors[0]!.field).toBe('plans.small.worker.instances');
    expect(error.errors[0]!.message).toContain('must not exceed worker.max_instances (10); got 12');
  });

  it('rejects a plan without workers and says the field is required', () => {
    const error = configError(() => parseConfig({ plans: { small: { master: { instances: 1 } } } }));
    expect(error.errors[0]!.field).toBe('plans.small.worker');
    expect(error.errors[0]!.message).toMatch(/^is required/);
  });

  it('rejects bad plan names and drain values out of range', () => {
    const error = configError(() =>
      parseConfig({
        plans: {
          Big_Plan: { master: { instances: 1 }, worker: { instances: 1, max_instances: 1 } },
          ok: {
            master: { instances: 1 },
            worker: { instances: 1, max_instances: 1 },
            kubelet_drain_timeout: 2000,
          },
        },
      }),
    );
    expect(error.errors.map((e) => e.field).sort()).toEqual([
      'plans.Big_Plan',
      'plans.ok.kubelet_drain_timeout',
    ]);
    expect(error.message).toContain(
      'plans.ok.kubelet_drain_timeout: must be an integer from 0 to 1440 (minutes; 0 waits without limit) (got 2000)',
    );
  });

  it('rejects a port out of range and points at the environment variable too', () => {
    const error = configError(() => parseConfig({ roles: { api: { port: 70000 } } }));
    expect(error.errors[0]!.field).toBe('roles.api.port');
    expect(error.errors[0]!.message).toBe(
      'must be between 0 and 65535 (0 picks a free port) (got 70000) — set in pks.yaml or PKS_API_PORT',
    );
  });

  it('takes where a role runs elsewhere as an https origin, from pks.yaml or PKS_<ROLE>_URL', () => {
    const config = loadConfig({
      path: writeConfig('roles:\n  broker:\n    url: https://broker.pks.example.com:8080/\n'),
      env: { PKS_DIRECTOR_URL: 'https://10.0.0.6:25555' },
    });
    expect(config.roles.broker.url).toBe('https://broker.pks.example.com:8080');
    expect(config.roles.director.url).toBe('https://10.0.0.6:25555');
    expect(config.roles.api.url).toBeUndefined();
  });

  it('rejects a role URL that is not an https origin, naming the field and the variable', () => {
    const plain = configError(() => parseConfig({ roles: { broker: { url: 'http://broker:8080' } } }));
    expect(plain.errors.map((e) => [e.field, e.message])).toEqual([
      [
        'roles.broker.url',
        'must be an https:// URL (roles call each other over TLS), not http:// (got "http://broker:8080") — set in pks.yaml or PKS_BROKER_URL',
      ],
    ]);
    const withPath = configError(() => loadConfig({ env: { PKS_UAA_URL: 'https://uaa.example.com/uaa' } }));
    expect(withPath.errors[0]!.field).toBe('roles.uaa.url');
    expect(withPath.errors[0]!.message).toContain('scheme, host and port only');
    const console = configError(() =>
      parseConfig({ roles: { console: { url: 'https://pks.example.com' } } }),
    );
    expect(console.errors[0]!.field).toBe('roles.console.url');
    expect(console.errors[0]!.message).toContain('console.external_url');
  });

  it('takes a CA to issue certificates with (tls.ca_file + ca_key_file) or one certificate, not a mix', () => {
    const config = parseConfig({ tls: { ca_file: '/etc/pks/ca.crt', ca_key_file: '/etc/pks/ca.key' } });
    expect(config.tls).toEqual({ hostnames: [], caFile: '/etc/pks/ca.crt', caKeyFile: '/etc/pks/ca.key' });
    const mixed = configError(() =>
      parseConfig({
        tls: { cert_file: 'a.crt', key_file: 'a.key', ca_file: 'ca.crt', ca_key_file: 'ca.key' },
      }),
    );
    expect(mixed.errors.map((e) => e.field)).toEqual(['tls.ca_key_file']);
    expect(configError(() => parseConfig({ tls: { ca_key_file: 'ca.key' } })).errors[0]!.field).toBe(
      'tls.ca_file',
    );
    expect(configError(() => parseConfig({ tls: { cert_file: 'a.crt' } })).errors[0]!.message).toContain(
      'must be given together',
    );
  });

  it('takes the secret key file from pks.yaml or PKS_SECRET_KEY_FILE', () => {
    const path = writeConfig('secrets:\n  key_file: keys/secret.key\n');
    expect(loadConfig({ path, env: {} }).secrets.keyFile).toBe(join(dirname(path), 'keys/secret.key'));
    expect(loadConfig({ path, env: { PKS_SECRET_KEY_FILE: '/run/pks/key' } }).secrets.keyFile).toBe(
      '/run/pks/key',
    );
  });

  it('rejects a port that is not a number', () => {
    const error = configError(() => loadConfig({ env: { PKS_UAA_PORT: 'eighty' } }));
    expect(error.errors[0]!.field).toBe('roles.uaa.port');
    expect(error.errors[0]!.message).toContain('got "eighty"');
  });

  it('rejects unknown keys, at any depth, by name', () => {
    const error = configError(() =>
      parseConfig({
        lisen: 1,
        roles: { api: { prot: 1 } },
        plans: { small: { master: { instances: 1, cpus: 4 }, worker: { instances: 1, max_instances: 1 } } },
      }),
    );
    expect(error.errors.map((e) => [e.field, e.message])).toEqual(
      expect.arrayContaining([
        ['lisen', 'unknown key "lisen"'],
        ['roles.api.prot', 'unknown key "prot"'],
        ['plans.small.master.cpus', 'unknown key "cpus"'],
      ]),
    );
    expect(error.errors[0]).toBeInstanceOf(InputError);
  });

  it('sizes plans from the VM type catalog, and pks.yaml vm_types add to it or replace one', () => {
    const config = parseConfig({
      vm_types: {
        medium: { cpu: 3, ram: 6144, ephemeral_disk: 16384 },
        gpu: { cpu: 16, ram: 65536, ephemeral_disk: 65536 },
      },
      plans: {
        p: {
          master: { instances: 1, vm_type: 'medium' },
          worker: { instances: 1, max_instances: 2, vm_type: 'gpu' },
        },
      },
    });
    const plan = config.plans[0]!;
    expect([plan.master.cpu, plan.master.ramMb, plan.worker.cpu, plan.worker.ramMb]).toEqual([
      3, 6144, 16, 65536,
    ]);
    expect(config.vmTypes.find((t) => t.name === 'xlarge')).toEqual({
      name: 'xlarge',
      cpu: 4,
      ramMb: 16384,
      ephemeralDiskMb: 32768,
    });
    // The built-in plans: small on medium VMs (2 cpu, 4 GB), large on xlarge (4 cpu, 16 GB).
    const builtIn = parseConfig({}).plans;
    expect(builtIn.map((p) => [p.name, p.master.cpu, p.master.ramMb, p.worker.cpu, p.worker.ramMb])).toEqual([
      ['small', 2, 4096, 2, 4096],
      ['medium', 2, 8192, 2, 8192],
      ['large', 4, 16384, 4, 16384],
    ]);
  });

  it('rejects a plan naming an unknown VM type, naming the plan and field, and bad VM types', () => {
    const error = configError(() =>
      parseConfig({
        vm_types: { huge: { cpu: 0, ram: 100, ephemeral_disk: 1024 } },
        plans: {
          p: {
            master: { instances: 1, vm_type: 'nope' },
            worker: { instances: 1, max_instances: 2, vm_type: 'medium' },
            errand_vm_type: 'tiny',
          },
        },
      }),
    );
    // Every bad field at once: the VM type's own, and the plan's fields naming unknown types.
    expect(error.errors.map((e) => e.field)).toEqual([
      'vm_types.huge.cpu',
      'vm_types.huge.ram',
      'plans.p.master.vm_type',
      'plans.p.errand_vm_type',
    ]);
    // A plan that is itself malformed is reported as such, not as a crash of the VM type check.
    const malformed = configError(() =>
      parseConfig({ plans: { p: { master: { instances: 1, vm_type: 'nope' } } } }),
    );
    expect(malformed.errors.map((e) => e.field)).toContain('plans.p.worker');
    const unknown = configError(() =>
      parseConfig({
        plans: {
          p: {
            master: { instances: 1, vm_type: 'nope' },
            worker: { instances: 1, max_instances: 2, vm_type: 'medium' },
            errand_vm_type: 'tiny',
          },
        },
      }),
    );
    expect(unknown.errors.map((e) => e.field)).toEqual(['plans.p.master.vm_type', 'plans.p.errand_vm_type']);
    expect(unknown.errors[0]!.message).toMatch(/^VM type "nope" is not in vm_types \(known: nano, micro, /);
  });

  it('rejects an unknown Director type and lists the allowed ones', () => {
    const error = configError(() => parseConfig({ director: { type: 'vsphere' } }));
    expect(error.errors[0]!.field).toBe('director.type');
    expect(error.message).toContain('"embedded" or "remote"');
  });

  it('requires the remote Director URL and client', () => {
    const error = configError(() => parseConfig({ director: { type: 'remote', url: 'not a url' } }));
    expect(error.errors.map((e) => e.field).sort()).toEqual([
      'director.client_id',
      'director.client_secret',
      'director.url',
    ]);
  });

  it('requires operator-supplied TLS files together', () => {
    const error = configError(() => parseConfig({ tls: { cert_file: 'server.pem' } }));
    expect(error.errors[0]!.field).toBe('tls');
    expect(error.message).toContain('must be given together');
  });

  it('refuses a configuration where no plan is active', () => {
    const error = configError(() =>
      parseConfig({
        plans: {
          small: { active: false, master: { instances: 1 }, worker: { instances: 1, max_instances: 1 } },
        },
      }),
    );
    expect(error.message).toContain('at least one plan must be active');
  });
});

describe('environment overrides', () => {
  it('override the data directory, database, admin password, host and ports', () => {
    const config = loadConfig({
      cwd: '/home/op',
      env: {
        PKS_DATA_DIR: 'state',
        DATABASE_URL: 'postgres://pks@db:5432/pks',
        PKS_ADMIN_PASSWORD: 'correct horse',
        PKS_HOST: '0.0.0.0',
        PKS_API_PORT: '0',
        PKS_UAA_PORT: '9443',
      },
    });
    expect(config.dataDir).toBe('/home/op/state');
    expect(config.database.url).toBe('postgres://pks@db:5432/pks');
    expect(config.uaa.adminPassword).toBe('correct horse');
    expect(config.roles.api).toEqual({ host: '0.0.0.0', port: 0 });
    expect(config.roles.uaa).toEqual({ host: '0.0.0.0', port: 9443 });
    expect(config.roles.broker).toEqual({ host: '0.0.0.0', port: 8080 });
  });

  it('move the console with PKS_CONSOLE_PORT like every other role', () => {
    const config = loadConfig({ env: { PKS_CONSOLE_PORT: '0', PKS_HOST: '0.0.0.0' } });
    expect(config.roles.console).toEqual({ host: '0.0.0.0', port: 0 });
  });

  it('win over the file', () => {
    const path = writeConfig('roles:\n  api:\n    port: 9000\n');
    expect(loadConfig({ path, env: { PKS_API_PORT: '9100' } }).roles.api.port).toBe(9100);
  });
});

describe('sim CPI and broker settings', () => {
  it('reads latency per CPI method and injected faults for the embedded Director', () => {
    const config = parseConfig({
      director: {
        type: 'embedded',
        sim: {
          ip_range: '127.42.0.0/24',
          latency_ms: { create_vm: 50, delete_vm: 10 },
          faults: [{ method: 'create_vm', instance_group: 'worker', nth: 2, message: 'quota exceeded' }],
        },
      },
      broker: { upgrades: { canaries: 1, max_in_flight: 4 }, oidc: { username_prefix: '-' } },
    });
    expect(config.director).toMatchObject({
      sim: {
        ipRange: '127.42.0.0/24',
        latencyMs: { create_vm: 50, delete_vm: 10 },
        faults: [{ method: 'create_vm', instanceGroup: 'worker', nth: 2, message: 'quota exceeded' }],
      },
    });
    expect(config.broker.upgrades).toMatchObject({ canaries: 1, maxInFlight: 4, attemptLimit: 5 });
    expect(config.broker.oidc.usernamePrefix).toBe('-');
  });

  it('keeps sim VM IPs on loopback and names unknown CPI methods', () => {
    const error = configError(() =>
      parseConfig({
        director: {
          type: 'embedded',
          sim: {
            ip_range: '10.0.0.0/16',
            latency_ms: { create_vm: 5, make_coffee: 1 },
            faults: [{ method: 'explode' }],
          },
        },
      }),
    );
    const fields = error.errors.map((e) => e.field);
    expect(fields).toEqual(expect.arrayContaining(['director.sim.ip_range', 'director.sim.faults.0.method']));
    expect(error.message).toContain('must be a CIDR inside 127.0.0.0/8');
    expect(error.message).toContain('must be a CPI method');
    expect(fields.some((f) => f?.startsWith('director.sim.latency_ms'))).toBe(true);
  });

  it('refuses a fault that gives both nth and probability', () => {
    const error = configError(() =>
      parseConfig({
        director: { type: 'embedded', sim: { faults: [{ method: 'create_vm', nth: 1, probability: 0.5 }] } },
      }),
    );
    expect(error.errors[0]!.field).toBe('director.sim.faults.0');
    expect(error.message).toContain('give nth or probability, not both');
  });
});

describe('NSX-T settings', () => {
  it('name the installation objects profiles fall back to, and seed the simulator', () => {
    const config = parseConfig({
      nsx: {
        type: 'embedded',
        t0_router_id: 'corp-t0',
        sim: { node_ip_block_cidr: '10.10.0.0/16' },
      },
    });
    expect(config.nsx).toMatchObject({
      topology: { t0RouterId: 'corp-t0', nodeIpBlockId: 'pks-node-ip-block' },
      sim: { nodeIpBlockCidr: '10.10.0.0/16', podIpBlockCidr: '172.28.0.0/14' },
    });
  });

  it('refuses simulator settings for a real NSX Manager, and bad CIDRs', () => {
    const error = configError(() =>
      parseConfig({
        nsx: { type: 'manager', url: 'https://nsx.corp', username: 'a', password: 'b', sim: {} },
      }),
    );
    expect(error.errors[0]!.field).toBe('nsx.sim');
    const cidr = configError(() =>
      parseConfig({ nsx: { type: 'embedded', sim: { pod_ip_block_cidr: '172.28.0.0' } } }),
    );
    expect(cidr.errors[0]!.field).toBe('nsx.sim.pod_ip_block_cidr');
    expect(cidr.message).toContain('must be an IPv4 CIDR');
  });
});

describe('the console section', () => {
  it('takes the URL browsers reach the console at, without a trailing slash', () => {
    const config = parseConfig({ console: { external_url: 'https://pks.example.com/' } });
    expect(config.console).toEqual({ externalUrl: 'https://pks.example.com' });
  });

  it('rejects an external URL that is not http(s), naming the field', () => {
    const error = configError(() => parseConfig({ console: { external_url: 'ftp://pks.example.com' } }));
    expect(error.errors.map((e) => [e.field, e.message])).toEqual([
      ['console.external_url', expect.stringContaining('must be an http:// or https:// URL')],
    ]);
  });

  it('rejects unknown keys in the console section', () => {
    const error = configError(() => parseConfig({ console: { port: 3000 } }));
    expect(error.errors[0]!.field).toBe('console.port');
  });
});
