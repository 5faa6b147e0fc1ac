import { createHash } from 'node:crypto';
import { z } from 'zod';
import {
  DRAIN_RULES,
  MASTER_INSTANCE_COUNTS,
  drainSettingAllowed,
  type Plan,
  type VmType,
} from '@openpks/domain';
import { DEFAULT_PORTS, ROLES, type Role } from './roles.js';

// pks.yaml speaks snake_case, like the PKS tile, the PKS API and BOSH manifests; the typed config the
// rest of the code receives is camelCase.

const port = z
  .number({ error: 'must be a port number' })
  .int({ error: 'must be a whole number' })
  .min(0, { error: 'must be between 0 and 65535 (0 picks a free port)' })
  .max(65535, { error: 'must be between 0 and 65535 (0 picks a free port)' });

const host = z.string().min(1, { error: 'must be a host name or IP address to bind' });

// Where the other roles reach a role that runs in another process or on another machine (DESIGN §1: role
// to role is HTTPS). Only an origin: the roles' paths are fixed.
const roleUrl = z
  .url({ error: 'must be an absolute https:// URL, e.g. https://broker.pks.example.com:8080' })
  .superRefine((value, ctx) => {
    const parsed = new URL(value);
    if (parsed.protocol !== 'https:') {
      ctx.addIssue({
        code: 'custom',
        message: `must be an https:// URL (roles call each other over TLS), not ${parsed.protocol}//`,
      });
    } else if (
      parsed.username ||
      parsed.password ||
      parsed.search ||
      parsed.hash ||
      parsed.pathname !== '/'
    ) {
      ctx.addIssue({
        code: 'custom',
        message: 'must be scheme, host and port only (no path, query, fragment or credentials)',
      });
    }
  })
  .transform((value) => new URL(value).origin);

const listen = (role: Role) =>
  z
    .strictObject({
      host: host.default('127.0.0.1'),
      port: port.default(DEFAULT_PORTS[role]),
      url: roleUrl.optional(),
    })
    .superRefine((entry, ctx) => {
      // No role calls the console; browsers find it at console.external_url.
      if (role === 'console' && entry.url !== undefined) {
        ctx.addIssue({
          code: 'custom',
          path: ['url'],
          message: 'no role calls the console: set where browsers reach it in console.external_url instead',
        });
      }
    })
    .prefault({});

const nonEmpty = (what: string) => z.string().min(1, { error: `must be a non-empty ${what}` });
const url = (what: string) => z.url({ error: `must be an absolute URL (${what})` });

const azs = z.array(nonEmpty('availability zone name')).min(1, { error: 'must list at least one AZ' });

const masterCount = z.union(
  MASTER_INSTANCE_COUNTS.map((n) => z.literal(n)),
  { error: `must be one of ${MASTER_INSTANCE_COUNTS.join(', ')} (etcd needs an odd quorum)` },
);

/** A numeric drain setting of a plan, held to the one drain rule (`DRAIN_RULES` in @openpks/domain). */
const drainInteger = (key: 'kubeletDrainTimeout' | 'kubeletDrainGracePeriod') =>
  z.number().refine((value) => drainSettingAllowed(key, value), {
    error: `must be ${DRAIN_RULES[key].allowed} (${DRAIN_RULES[key].meaning})`,
  });
const drainTimeout = drainInteger('kubeletDrainTimeout');
const drainGrace = drainInteger('kubeletDrainGracePeriod');

const planSchema = z
  .strictObject({
    id: z.uuid({ error: 'must be a UUID' }).optional(),
    description: z.string().default(''),
    active: z.boolean().default(true),
    master: z.strictObject({
      instances: masterCount,
      vm_type: nonEmpty('VM type').default('medium'),
      persistent_disk_type: nonEmpty('disk type').default('10240'),
      azs: azs.default(['z1']),
    }),
    worker: z.strictObject({
      instances: z.number().int().min(1, { error: 'must be at least 1 worker' }),
      max_instances: z.number().int().min(1, { error: 'must be at least 1 worker' }),
      vm_type: nonEmpty('VM type').default('medium'),
      persistent_disk_type: nonEmpty('disk type').default('10240'),
      azs: azs.default(['z1']),
      max_in_flight: z.number().int().min(1, { error: 'must be at least 1' }).default(4),
    }),
    errand_vm_type: nonEmpty('VM type').default('micro'),
    allow_privileged: z.boolean().default(false),
    admission_plugins: z
      .strictObject({
        pod_security_policy: z.boolean().default(false),
        deny_escalating_exec: z.boolean().default(false),
        security_context_deny: z.boolean().default(false),
      })
      .prefault({}),
    kubelet: z
      .strictObject({
        system_reserved: z.string().default('memory=250Mi, cpu=150m'),
        eviction_hard: z
          .string()
          .default('memory.available=100Mi, nodefs.available=10%, nodefs.inodesFree=5%'),
      })
      .prefault({}),
    kubelet_drain_timeout: drainTimeout.default(0),
    kubelet_drain_grace_period: drainGrace.default(10),
    kubelet_drain_force: z.boolean().default(false),
    kubelet_drain_ignore_daemonsets: z.boolean().default(true),
    kubelet_drain_delete_local_data: z.boolean().default(true),
    kubelet_drain_force_node: z.boolean().default(false),
    addons: z.string().default(''),
  })
  .superRefine((plan, ctx) => {
    if (plan.worker.instances > plan.worker.max_instances) {
      ctx.addIssue({
        code: 'custom',
        path: ['worker', 'instances'],
        message: `must not exceed worker.max_instances (${plan.worker.max_instances}); got ${plan.worker.instances}`,
      });
    }
  });

type PlanInput = z.input<typeof planSchema>;

export const DEFAULT_PLANS: Record<string, PlanInput> = {
  small: {
    description:
      'Example: This plan will configure a lightweight kubernetes cluster. Not recommended for production workloads.',
    master: { instances: 1, vm_type: 'medium', persistent_disk_type: '10240' },
    worker: { instances: 3, max_instances: 10, vm_type: 'medium', persistent_disk_type: '51200' },
  },
  medium: {
    description:
      'Example: This plan will configure a medium sized kubernetes cluster, suitable for more pods.',
    master: { instances: 3, vm_type: 'large', persistent_disk_type: '10240' },
    worker: { instances: 3, max_instances: 50, vm_type: 'large', persistent_disk_type: '102400' },
  },
  large: {
    description:
      'Example: This plan will configure a large kubernetes cluster for resource heavy workloads, or a high number of workloads.',
    master: { instances: 5, vm_type: 'xlarge', persistent_disk_type: '10240' },
    worker: { instances: 5, max_instances: 100, vm_type: 'xlarge', persistent_disk_type: '102400' },
  },
};

const PLAN_NAME = /^[a-z][a-z0-9-]{0,39}$/;

const vmTypeSchema = z.strictObject({
  cpu: z.number().int().min(1, { error: 'must be a whole number of CPUs, at least 1' }),
  ram: z.number().int().min(256, { error: 'must be a whole number of MB, at least 256' }),
  ephemeral_disk: z.number().int().min(1024, { error: 'must be a whole number of MB, at least 1024' }),
});

type VmTypeInput = z.input<typeof vmTypeSchema>;

/**
 * The cloud config's VM types as Ops Manager defines them on vSphere (cpu, ram MB, ephemeral disk MB).
 * Plans name them; quotas measure clusters by them. pks.yaml's `vm_types` adds to these or replaces one
 * of the same name.
 */
export const DEFAULT_VM_TYPES: Record<string, VmTypeInput> = {
  nano: { cpu: 1, ram: 512, ephemeral_disk: 1024 },
  micro: { cpu: 1, ram: 1024, ephemeral_disk: 8192 },
  'micro.ram': { cpu: 1, ram: 4096, ephemeral_disk: 8192 },
  small: { cpu: 1, ram: 2048, ephemeral_disk: 8192 },
  'small.disk': { cpu: 1, ram: 2048, ephemeral_disk: 16384 },
  medium: { cpu: 2, ram: 4096, ephemeral_disk: 8192 },
  'medium.mem': { cpu: 1, ram: 6144, ephemeral_disk: 8192 },
  'medium.disk': { cpu: 2, ram: 4096, ephemeral_disk: 32768 },
  'medium.cpu': { cpu: 4, ram: 4096, ephemeral_disk: 8192 },
  large: { cpu: 2, ram: 8192, ephemeral_disk: 16384 },
  'large.mem': { cpu: 2, ram: 12288, ephemeral_disk: 16384 },
  'large.disk': { cpu: 2, ram: 8192, ephemeral_disk: 65536 },
  'large.cpu': { cpu: 4, ram: 8192, ephemeral_disk: 16384 },
  xlarge: { cpu: 4, ram: 16384, ephemeral_disk: 32768 },
  'xlarge.mem': { cpu: 4, ram: 32768, ephemeral_disk: 32768 },
  'xlarge.disk': { cpu: 4, ram: 16384, ephemeral_disk: 131072 },
  'xlarge.cpu': { cpu: 8, ram: 16384, ephemeral_disk: 32768 },
  '2xlarge': { cpu: 8, ram: 32768, ephemeral_disk: 65536 },
};

const VM_TYPE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/;

const CPI_METHODS = [
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
  'attach_disk',
  'detach_disk',
  'has_disk',
] as const;

const milliseconds = z.number().int().min(0, { error: 'must be 0 or more milliseconds' });

// The sim CPI of the embedded Director (the only simulated VMs): latency and injected faults make the
// control plane's timing and failure paths testable; VM IPs are loopback addresses.
const simSchema = z.strictObject({
  ip_range: z
    .string()
    .regex(/^127\.\d{1,3}\.\d{1,3}\.\d{1,3}\/(?:[89]|[12]\d|30)$/, {
      error: 'must be a CIDR inside 127.0.0.0/8 with a prefix of /8 to /30, e.g. 127.1.0.0/16',
    })
    .default('127.1.0.0/16'),
  latency_ms: z
    .union([milliseconds, z.partialRecord(z.enum(CPI_METHODS), milliseconds)], {
      error: `must be milliseconds, or a map of CPI method (${CPI_METHODS.join(', ')}) to milliseconds`,
    })
    .default(0),
  kube_port: port.default(8443),
  cpi_timeout_ms: z.number().int().min(100, { error: 'must be at least 100 ms' }).default(60_000),
  faults: z
    .array(
      z
        .strictObject({
          method: z.enum(CPI_METHODS, { error: `must be a CPI method: ${CPI_METHODS.join(', ')}` }),
          instance_group: nonEmpty('instance group name').optional(),
          nth: z
            .number()
            .int()
            .min(1, { error: 'must be 1 or more (the nth matching call fails)' })
            .optional(),
          probability: z.number().min(0).max(1, { error: 'must be between 0 and 1' }).optional(),
          hang: z.boolean().optional(),
          message: z.string().optional(),
          times: z.number().int().min(1).optional(),
        })
        .refine((fault) => fault.nth === undefined || fault.probability === undefined, {
          error: 'give nth or probability, not both',
        }),
    )
    .default([]),
});

const directorSchema = z.discriminatedUnion(
  'type',
  [
    z.strictObject({
      type: z.literal('embedded'),
      workers: z.number().int().min(1, { error: 'must be at least 1 worker' }).max(64).default(5),
      sim: simSchema.prefault({}),
    }),
    z.strictObject({
      type: z.literal('remote'),
      url: url('the BOSH Director, e.g. https://10.0.0.6:25555'),
      ca_file: nonEmpty('path to the Director CA certificate').optional(),
      client_id: nonEmpty('UAA client id'),
      client_secret: nonEmpty('UAA client secret'),
    }),
  ],
  { error: 'type must be "embedded" or "remote"' },
);

const nsxId = (what: string) => nonEmpty(`${what} id`);
const ipv4Cidr = z
  .string()
  .regex(/^\d{1,3}(\.\d{1,3}){3}\/\d{1,2}$/, { error: 'must be an IPv4 CIDR, e.g. 172.24.0.0/14' });
const ipv4 = z.string().regex(/^\d{1,3}(\.\d{1,3}){3}$/, { error: 'must be an IPv4 address' });

// The installation's NSX-T objects (the PKS tile's NSX settings), used when a network profile names none.
const nsxTopology = {
  t0_router_id: nsxId('tier-0 router').default('pks-t0'),
  node_ip_block_id: nsxId('IP block').default('pks-node-ip-block'),
  pod_ip_block_id: nsxId('IP block').default('pks-pod-ip-block'),
  floating_ip_pool_id: nsxId('IP pool').default('pks-floating-ip-pool'),
};

const nsxSchema = z.discriminatedUnion(
  'type',
  [
    z.strictObject({
      type: z.literal('embedded'),
      ...nsxTopology,
      // What the NSX simulator is seeded with: address space only, never contacted.
      sim: z
        .strictObject({
          node_ip_block_cidr: ipv4Cidr.default('172.24.0.0/14'),
          pod_ip_block_cidr: ipv4Cidr.default('172.28.0.0/14'),
          floating_ip_pool: z
            .strictObject({ cidr: ipv4Cidr, start: ipv4, end: ipv4 })
            .default({ cidr: '192.168.160.0/24', start: '192.168.160.10', end: '192.168.160.250' }),
        })
        .prefault({}),
    }),
    z.strictObject({
      type: z.literal('manager'),
      url: url('the NSX Manager, e.g. https://nsx.example.com'),
      username: nonEmpty('user name'),
      password: nonEmpty('password'),
      ca_file: nonEmpty('path to the NSX Manager CA certificate').optional(),
      ...nsxTopology,
    }),
  ],
  { error: 'type must be "embedded" or "manager"' },
);

const brokerSchema = z.strictObject({
  // How created clusters' API servers read UAA id tokens (PKS tile: "UAA as OIDC provider").
  oidc: z
    .strictObject({
      username_claim: nonEmpty('claim name').default('user_name'),
      username_prefix: z.string().default('oidc:'),
      groups_claim: nonEmpty('claim name').default('roles'),
      groups_prefix: z.string().default('oidc:'),
    })
    .prefault({}),
  // Upgrade-all defaults (ODB's upgrade-all-service-instances errand).
  upgrades: z
    .strictObject({
      canaries: z.number().int().min(0, { error: 'must be 0 or more' }).default(0),
      max_in_flight: z.number().int().min(1, { error: 'must be at least 1' }).default(1),
      attempt_limit: z.number().int().min(1, { error: 'must be at least 1' }).default(5),
      attempt_interval_seconds: z.number().int().min(0).default(60),
    })
    .prefault({}),
});

export const fileSchema = z
  .strictObject({
    data_dir: nonEmpty('directory path').optional(),
    external_host: host.default('localhost'),
    database: z.strictObject({ url: nonEmpty('postgres:// URL').optional() }).prefault({}),
    log: z
      .strictObject({
        level: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']).default('info'),
        pretty: z.union([z.boolean(), z.literal('auto')]).default('auto'),
      })
      .prefault({}),
    roles: z
      .strictObject(
        Object.fromEntries(ROLES.map((role) => [role, listen(role)])) as Record<
          Role,
          ReturnType<typeof listen>
        >,
      )
      .prefault({}),
    tls: z
      .strictObject({
        hostnames: z.array(nonEmpty('host name')).default([]),
        cert_file: nonEmpty('path').optional(),
        key_file: nonEmpty('path').optional(),
        ca_file: nonEmpty('path').optional(),
        ca_key_file: nonEmpty('path').optional(),
      })
      .superRefine((tls, ctx) => {
        // Two ways to bring your own: one certificate for every role (cert, key and its CA), or a CA whose
        // key issues each role's certificate on each machine (ca_file and ca_key_file, as `pks-admin init`
        // prepares them).
        const own = [tls.cert_file, tls.key_file].filter(Boolean).length;
        if (tls.ca_key_file !== undefined) {
          if (own > 0) {
            ctx.addIssue({
              code: 'custom',
              path: ['ca_key_file'],
              message:
                'cannot be combined with cert_file and key_file: give either a CA to issue certificates (ca_file, ca_key_file) or one certificate (cert_file, key_file, ca_file)',
            });
          } else if (tls.ca_file === undefined) {
            ctx.addIssue({
              code: 'custom',
              path: ['ca_file'],
              message: 'is needed with ca_key_file (the CA certificate of that key)',
            });
          }
        } else if ((own + (tls.ca_file ? 1 : 0)) % 3 !== 0) {
          ctx.addIssue({
            code: 'custom',
            message:
              'cert_file, key_file and ca_file must be given together (or ca_file with ca_key_file, or none of them, to generate a CA)',
          });
        }
      })
      .prefault({}),
    secrets: z
      .strictObject({
        // The key that seals secrets at rest in the database; the same file on every machine of one
        // installation. Default: secrets/encryption.key in the data directory.
        key_file: nonEmpty('path').optional(),
      })
      .prefault({}),
    uaa: z
      .strictObject({
        access_token_validity: z
          .number()
          .int()
          .min(60, { error: 'must be at least 60 seconds' })
          .default(600),
        refresh_token_validity: z
          .number()
          .int()
          .min(60, { error: 'must be at least 60 seconds' })
          .default(21600),
        console_redirect_uris: z
          .array(url('a redirect URI of the console'))
          .default(['http://localhost:3000/api/auth/callback/uaa']),
      })
      .prefault({}),
    console: z
      .strictObject({
        // Where browsers reach the console (behind a proxy, or another host name); default
        // http://<external_host>:<bound port>. Its origin is the OAuth redirect target and the cookie scope.
        external_url: url('where browsers reach the console, e.g. https://pks.example.com')
          .refine((value) => ['http:', 'https:'].includes(new URL(value).protocol), {
            error: 'must be an http:// or https:// URL',
          })
          .optional(),
      })
      .prefault({}),
    director: directorSchema.prefault({ type: 'embedded' }),
    broker: brokerSchema.prefault({}),
    nsx: nsxSchema.prefault({ type: 'embedded' }),
    vm_types: z
      .record(z.string(), vmTypeSchema)
      .superRefine((types, ctx) => {
        for (const name of Object.keys(types)) {
          if (!VM_TYPE_NAME.test(name)) {
            ctx.addIssue({
              code: 'custom',
              path: [name],
              message: `VM type name "${name}" must be 1-63 letters, digits and . _ -, starting with a letter or digit`,
            });
          }
        }
      })
      .default({}),
    plans: z
      .record(z.string(), planSchema)
      .superRefine((plans, ctx) => {
        const names = Object.keys(plans);
        if (names.length === 0) ctx.addIssue({ code: 'custom', message: 'must define at least one plan' });
        for (const name of names) {
          if (!PLAN_NAME.test(name)) {
            ctx.addIssue({
              code: 'custom',
              path: [name],
              message: `plan name "${name}" must be 1-40 lowercase letters, digits and -, starting with a letter`,
            });
          }
        }
        if (names.length > 0 && !Object.values(plans).some((p) => p.active)) {
          ctx.addIssue({ code: 'custom', message: 'at least one plan must be active' });
        }
        const ids = new Map<string, string>();
        for (const [name, plan] of Object.entries(plans)) {
          if (!plan.id) continue;
          const other = ids.get(plan.id);
          if (other)
            ctx.addIssue({
              code: 'custom',
              path: [name, 'id'],
              message: `duplicates the id of plan "${other}"`,
            });
          ids.set(plan.id, name);
        }
      })
      .prefault(DEFAULT_PLANS),
  })
  .superRefine((file, ctx) => {
    // A plan naming a VM type the catalog does not have could never be deployed nor measured for quotas.
    const types = vmTypesOf(file.vm_types);
    const known = [...types.keys()].join(', ');
    for (const [name, plan] of Object.entries(file.plans)) {
      const named: [PropertyKey[], string][] = [
        [['master', 'vm_type'], plan.master.vm_type],
        [['worker', 'vm_type'], plan.worker.vm_type],
        [['errand_vm_type'], plan.errand_vm_type],
      ];
      for (const [path, vmType] of named) {
        if (!types.has(vmType)) {
          ctx.addIssue({
            code: 'custom',
            path: ['plans', name, ...path],
            message: `VM type "${vmType}" is not in vm_types (known: ${known})`,
          });
        }
      }
    }
  });

export type PksConfigFile = z.output<typeof fileSchema>;

/** A stable UUID for a plan without an explicit id, so OSB plan ids survive restarts (name-based, v5-style). */
export function planIdFor(name: string): string {
  const hash = createHash('sha1').update(`openpks/plan/${name}`).digest();
  hash[6] = (hash[6]! & 0x0f) | 0x50;
  hash[8] = (hash[8]! & 0x3f) | 0x80;
  const hex = hash.subarray(0, 16).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}

/** The VM type catalog: the built-in types with pks.yaml's `vm_types` over them. */
export function vmTypesOf(configured: Record<string, z.output<typeof vmTypeSchema>>): Map<string, VmType> {
  const types = new Map<string, VmType>();
  for (const [name, t] of Object.entries({ ...DEFAULT_VM_TYPES, ...configured })) {
    types.set(name, { name, cpu: t.cpu, ramMb: t.ram, ephemeralDiskMb: t.ephemeral_disk });
  }
  return types;
}

export function toPlan(
  name: string,
  p: z.output<typeof planSchema>,
  vmTypes: ReadonlyMap<string, VmType>,
): Plan {
  const sized = (vmType: string) => {
    const t = vmTypes.get(vmType);
    // The file schema refuses a plan naming an unknown VM type, so this holds for every loaded config.
    if (t === undefined) throw new Error(`plan ${name}: VM type ${vmType} is not in vm_types`);
    return { cpu: t.cpu, ramMb: t.ramMb };
  };
  return {
    id: p.id ?? planIdFor(name),
    name,
    description: p.description,
    active: p.active,
    master: {
      instances: p.master.instances,
      vmType: p.master.vm_type,
      ...sized(p.master.vm_type),
      persistentDiskType: p.master.persistent_disk_type,
      azs: p.master.azs,
    },
    worker: {
      instances: p.worker.instances,
      maxInstances: p.worker.max_instances,
      vmType: p.worker.vm_type,
      ...sized(p.worker.vm_type),
      persistentDiskType: p.worker.persistent_disk_type,
      azs: p.worker.azs,
      maxInFlight: p.worker.max_in_flight,
    },
    errandVmType: p.errand_vm_type,
    allowPrivileged: p.allow_privileged,
    admissionPlugins: {
      podSecurityPolicy: p.admission_plugins.pod_security_policy,
      denyEscalatingExec: p.admission_plugins.deny_escalating_exec,
      securityContextDeny: p.admission_plugins.security_context_deny,
    },
    kubelet: { systemReserved: p.kubelet.system_reserved, evictionHard: p.kubelet.eviction_hard },
    drain: {
      kubeletDrainTimeout: p.kubelet_drain_timeout,
      kubeletDrainGracePeriod: p.kubelet_drain_grace_period,
      kubeletDrainForce: p.kubelet_drain_force,
      kubeletDrainIgnoreDaemonsets: p.kubelet_drain_ignore_daemonsets,
      kubeletDrainDeleteLocalData: p.kubelet_drain_delete_local_data,
      kubeletDrainForceNode: p.kubelet_drain_force_node,
    },
    addons: p.addons,
  };
}
