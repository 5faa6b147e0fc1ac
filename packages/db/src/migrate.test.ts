import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database, Migration } from './index.js';
import { MigrationError, migrate, migrationChecksum } from './index.js';
import type { TestDatabase } from './testing/index.js';
import { testDatabaseBackends } from './testing/index.js';

const usersV1: Migration[] = [
  { id: '0001_create_users', sql: 'CREATE TABLE users (id text PRIMARY KEY, name text NOT NULL);' },
  {
    id: '0002_add_email',
    sql: `ALTER TABLE users ADD COLUMN email text;
          CREATE UNIQUE INDEX users_email ON users (email);`,
  },
];

async function appliedIds(db: Database, schema: string): Promise<string[]> {
  const { rows } = await db.query<{ id: string }>(`SELECT id FROM ${schema}.schema_migrations ORDER BY id`);
  return rows.map((row) => row.id);
}

async function tableExists(db: Database, qualified: string): Promise<boolean> {
  const { rows } = await db.query<{ found: string | null }>('SELECT to_regclass($1)::text AS found', [
    qualified,
  ]);
  return rows[0]?.found !== null;
}

describe.each(testDatabaseBackends(process.env, { pgliteWorker: true }))('migrate on $name', (backend) => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await backend.open();
  });
  afterAll(async () => {
    await db?.close();
  });

  it('creates the schema and applies every migration of a fresh schema in order', async () => {
    const report = await migrate(db, { schema: 'fresh', migrations: usersV1 });
    expect(report).toEqual({
      schema: 'fresh',
      applied: ['0001_create_users', '0002_add_email'],
      skipped: 0,
      unknown: [],
    });
    expect(await tableExists(db, 'fresh.users')).toBe(true);
    const { rows } = await db.query<{ id: string; checksum: string; applied_at: Date }>(
      'SELECT id, checksum, applied_at FROM fresh.schema_migrations ORDER BY id',
    );
    expect(rows.map((row) => [row.id, row.checksum])).toEqual(
      usersV1.map((migration) => [migration.id, migrationChecksum(migration.sql)]),
    );
    expect(rows[0]?.applied_at).toBeInstanceOf(Date);
    // The migration ran with search_path set to the schema, so nothing landed in public.
    expect(await tableExists(db, 'public.users')).toBe(false);
  });

  it('does nothing when run again, and applies only what is new', async () => {
    await migrate(db, { schema: 'rerun', migrations: usersV1 });
    expect(await migrate(db, { schema: 'rerun', migrations: usersV1 })).toEqual({
      schema: 'rerun',
      applied: [],
      skipped: 2,
      unknown: [],
    });
    const next = [
      ...usersV1,
      { id: '0003_add_role', sql: `ALTER TABLE users ADD COLUMN role text DEFAULT 'user';` },
    ];
    expect(await migrate(db, { schema: 'rerun', migrations: next })).toMatchObject({
      applied: ['0003_add_role'],
      skipped: 2,
    });
    expect(await appliedIds(db, 'rerun')).toEqual(['0001_create_users', '0002_add_email', '0003_add_role']);
  });

  it('refuses a changed migration that was already applied, naming schema, id and both checksums', async () => {
    await migrate(db, { schema: 'tampered', migrations: usersV1.slice(0, 1) });
    const changed: Migration[] = [
      { id: '0001_create_users', sql: 'CREATE TABLE users (id text PRIMARY KEY, name text);' },
      usersV1[1]!,
    ];
    const error: unknown = await migrate(db, { schema: 'tampered', migrations: changed }).catch((e) => e);
    expect(error).toBeInstanceOf(MigrationError);
    const message = (error as Error).message;
    expect(message).toContain('tampered/0001_create_users');
    expect(message).toContain(migrationChecksum(usersV1[0]!.sql));
    expect(message).toContain(migrationChecksum(changed[0]!.sql));
    expect((error as MigrationError).schema).toBe('tampered');
    expect((error as MigrationError).migrationId).toBe('0001_create_users');
    // Nothing else happened: the pending migration was not applied either.
    expect(await appliedIds(db, 'tampered')).toEqual(['0001_create_users']);
    const { rowCount } = await db.query(
      `SELECT 1 FROM information_schema.columns WHERE table_schema = 'tampered' AND column_name = 'email'`,
    );
    expect(rowCount).toBe(0);
  });

  it('treats a change of line endings alone as the same migration', async () => {
    await migrate(db, { schema: 'line_endings', migrations: usersV1 });
    const crlf = usersV1.map((migration) => ({ ...migration, sql: migration.sql.replaceAll('\n', '\r\n') }));
    expect(await migrate(db, { schema: 'line_endings', migrations: crlf })).toMatchObject({
      applied: [],
      skipped: 2,
    });
  });

  it('rolls a failing migration back whole and applies none after it', async () => {
    const migrations: Migration[] = [
      usersV1[0]!,
      {
        id: '0002_half_done',
        sql: `CREATE TABLE audit (id int);
              INSERT INTO audit VALUES (1);
              SELECT 1 / 0;`,
      },
      { id: '0003_later', sql: 'CREATE TABLE later (id int);' },
    ];
    const error: unknown = await migrate(db, { schema: 'failing', migrations }).catch((e) => e);
    expect(error).toBeInstanceOf(MigrationError);
    expect((error as Error).message).toMatch(
      /failing\/0002_half_done failed and was rolled back: division by zero/,
    );
    expect((error as MigrationError).migrationId).toBe('0002_half_done');
    expect(await appliedIds(db, 'failing')).toEqual(['0001_create_users']);
    expect(await tableExists(db, 'failing.users')).toBe(true);
    expect(await tableExists(db, 'failing.audit')).toBe(false);
    expect(await tableExists(db, 'failing.later')).toBe(false);

    // Fixed, it applies on the next start.
    migrations[1] = { id: '0002_half_done', sql: 'CREATE TABLE audit (id int);' };
    expect(await migrate(db, { schema: 'failing', migrations })).toMatchObject({
      applied: ['0002_half_done', '0003_later'],
      skipped: 1,
    });
  });

  it.each([
    [
      'out of order',
      [
        { id: '0002_b', sql: 'SELECT 1' },
        { id: '0001_a', sql: 'SELECT 1' },
      ],
      /out of order: 0001_a comes after 0002_b/,
    ],
    [
      'duplicated',
      [
        { id: '0001_a', sql: 'SELECT 1' },
        { id: '0001_a', sql: 'SELECT 2' },
      ],
      /0001_a appears twice/,
    ],
    [
      'with a bad id',
      [{ id: '../0001', sql: 'SELECT 1' }],
      /migration id "..\/0001" in schema listcheck is invalid/,
    ],
    ['without SQL', [{ id: '0001_empty', sql: '  ' }], /listcheck\/0001_empty has no SQL/],
  ])('refuses migrations %s before touching the database', async (_case, migrations, message) => {
    await expect(migrate(db, { schema: 'listcheck', migrations })).rejects.toThrow(message);
    expect(await tableExists(db, 'listcheck.schema_migrations')).toBe(false);
  });

  it('refuses a new migration whose id sorts before one already applied', async () => {
    await migrate(db, { schema: 'late', migrations: [{ id: '0002_b', sql: 'CREATE TABLE b (id int);' }] });
    const error: unknown = await migrate(db, {
      schema: 'late',
      migrations: [
        { id: '0001_a', sql: 'CREATE TABLE a (id int);' },
        { id: '0002_b', sql: 'CREATE TABLE b (id int);' },
      ],
    }).catch((e) => e);
    expect(error).toBeInstanceOf(MigrationError);
    expect((error as Error).message).toMatch(/late\/0001_a is new but sorts before 0002_b/);
    expect(await tableExists(db, 'late.a')).toBe(false);
  });

  it('reports applied migrations this code does not know without failing', async () => {
    await migrate(db, { schema: 'newer', migrations: usersV1 });
    expect(await migrate(db, { schema: 'newer', migrations: usersV1.slice(0, 1) })).toEqual({
      schema: 'newer',
      applied: [],
      skipped: 1,
      unknown: ['0002_add_email'],
    });
  });

  it("keeps two components' schemas independent", async () => {
    const brokerMigrations: Migration[] = [
      { id: '0001_create_users', sql: 'CREATE TABLE users (binding_id text PRIMARY KEY);' },
    ];
    await migrate(db, { schema: 'comp_uaa', migrations: usersV1 });
    const broker = await migrate(db, { schema: 'comp_broker', migrations: brokerMigrations });
    expect(broker.applied).toEqual(['0001_create_users']);
    expect(await appliedIds(db, 'comp_uaa')).toEqual(['0001_create_users', '0002_add_email']);
    expect(await appliedIds(db, 'comp_broker')).toEqual(['0001_create_users']);
    await db.query(`INSERT INTO comp_uaa.users (id, name, email) VALUES ('u1', 'Ann', 'ann@example.com')`);
    await db.query(`INSERT INTO comp_broker.users (binding_id) VALUES ('b1')`);
    const { rows } = await db.query<{ column_name: string }>(
      `SELECT column_name FROM information_schema.columns WHERE table_schema = 'comp_broker' AND table_name = 'users'
       ORDER BY column_name`,
    );
    expect(rows.map((row) => row.column_name)).toEqual(['binding_id']);
  });

  it('applies each migration once when two replicas migrate at the same time', async () => {
    const replica = await db.replica();
    try {
      const counted: Migration[] = [
        { id: '0001_counter', sql: 'CREATE TABLE runs (n int); INSERT INTO runs VALUES (1);' },
        { id: '0002_more', sql: 'INSERT INTO runs VALUES (2);' },
        { id: '0003_more', sql: 'INSERT INTO runs VALUES (3);' },
      ];
      const reports = await Promise.all([
        migrate(db, { schema: 'racing', migrations: counted }),
        migrate(replica, { schema: 'racing', migrations: counted }),
      ]);
      const applied = reports.flatMap((report) => report.applied).sort();
      expect(applied).toEqual(['0001_counter', '0002_more', '0003_more']);
      expect(reports.map((report) => report.applied.length + report.skipped)).toEqual([3, 3]);
      const { rows } = await db.query<{ n: number }>('SELECT n FROM racing.runs ORDER BY n');
      expect(rows.map((row) => row.n)).toEqual([1, 2, 3]);
    } finally {
      await replica.close();
    }
  });

  it('refuses a schema name that is not a lowercase identifier', async () => {
    await expect(migrate(db, { schema: 'Bad-Name', migrations: usersV1 })).rejects.toThrow(
      /invalid schema name/,
    );
    await expect(migrate(db, { schema: 'pg_catalog', migrations: usersV1 })).rejects.toThrow(
      /invalid schema name/,
    );
  });
});
