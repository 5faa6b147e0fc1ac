import { migrate } from '@openpks/db';
import { testDatabaseBackends, type TestDatabase } from '@openpks/db/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nsxMigrations } from './migrations.js';
import { NsxSimulator } from './nsxSimulator.js';

const ROOT = '/policy/api/v1/infra';

describe('the nsx schema upgraded from a simulator without realized state', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await testDatabaseBackends()[0]!.open();
    await migrate(db, { schema: 'nsx', migrations: nsxMigrations.slice(0, 1) });
    // What the first simulator stored: NSX's decisions inside the intent.
    const rows: [string, string, string, Record<string, unknown>][] = [
      ['/infra/ip-blocks/b', '', 'ip-blocks', { id: 'b', path: '/infra/ip-blocks/b', cidr: '10.70.0.0/23' }],
      ['/infra/ip-pools/p', '', 'ip-pools', { id: 'p', path: '/infra/ip-pools/p' }],
      [
        '/infra/ip-pools/p/ip-subnets/old',
        '/infra/ip-pools/p',
        'ip-subnets',
        {
          id: 'old',
          path: '/infra/ip-pools/p/ip-subnets/old',
          resource_type: 'IpAddressPoolBlockSubnet',
          ip_block_path: '/infra/ip-blocks/b',
          size: 256,
          cidr: '10.70.0.0/24',
          start_ip: '10.70.0.0',
        },
      ],
      [
        '/infra/ip-pools/p/ip-subnets/range',
        '/infra/ip-pools/p',
        'ip-subnets',
        {
          id: 'range',
          path: '/infra/ip-pools/p/ip-subnets/range',
          resource_type: 'IpAddressPoolStaticSubnet',
          cidr: '192.168.180.0/24',
          allocation_ranges: [{ start: '192.168.180.5', end: '192.168.180.6' }],
        },
      ],
      [
        '/infra/ip-pools/p/ip-allocations/a',
        '/infra/ip-pools/p',
        'ip-allocations',
        { id: 'a', path: '/infra/ip-pools/p/ip-allocations/a', allocation_ip: '192.168.180.5' },
      ],
    ];
    for (const [path, parent, kind, body] of rows)
      await db.query(`INSERT INTO nsx.objects (path, parent, kind, body) VALUES ($1, $2, $3, $4::jsonb)`, [
        path,
        parent,
        kind,
        JSON.stringify(body),
      ]);
    await migrate(db, { schema: 'nsx', migrations: nsxMigrations });
  });
  afterAll(async () => {
    await db?.close();
  });

  it('keeps what was carved and allocated, now told through the realized state', async () => {
    const sim = new NsxSimulator(db, { username: 'u', password: 'p' }, { realizationDelayMs: 0 });
    const realized = async (path: string) =>
      (
        (await sim.apply('GET', `${ROOT}/realized-state/realized-entities?intent_path=${path}`, null))
          .body as {
          results: { state: string; extended_attributes?: { key: string; values: string[] }[] }[];
        }
      ).results[0]!;
    expect(await realized('/infra/ip-pools/p/ip-subnets/old')).toMatchObject({
      state: 'REALIZED',
      extended_attributes: expect.arrayContaining([
        expect.objectContaining({ key: 'cidr', values: ['10.70.0.0/24'] }),
      ]),
    });
    expect((await sim.apply('GET', `${ROOT}/ip-pools/p/ip-subnets/old`, null)).body).not.toHaveProperty(
      'cidr',
    );
    // New requests are carved and allocated around what the old rows hold.
    await sim.apply('PUT', `${ROOT}/ip-pools/p/ip-subnets/new`, {
      resource_type: 'IpAddressPoolBlockSubnet',
      ip_block_path: '/infra/ip-blocks/b',
      size: 256,
    });
    expect((await realized('/infra/ip-pools/p/ip-subnets/new')).extended_attributes).toContainEqual(
      expect.objectContaining({ key: 'cidr', values: ['10.70.1.0/24'] }),
    );
    await sim.apply('PUT', `${ROOT}/ip-pools/p/ip-allocations/b`, {});
    expect((await realized('/infra/ip-pools/p/ip-allocations/b')).extended_attributes).toContainEqual(
      expect.objectContaining({ key: 'allocation_ip', values: ['192.168.180.6'] }),
    );
  });
});
