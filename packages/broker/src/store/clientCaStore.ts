import type { Queryable } from '@openpks/db';

/** `broker.client_ca`: the broker's client CA, its key sealed. */
export const clientCaStore = {
  async get(
    db: Queryable,
    id: string,
  ): Promise<{ certificate: string; private_key_sealed: string } | undefined> {
    const { rows } = await db.query<{ certificate: string; private_key_sealed: string }>(
      'SELECT certificate, private_key_sealed FROM broker.client_ca WHERE id = $1',
      [id],
    );
    return rows[0];
  },

  /** Stores the CA unless one is there already (replicas starting together settle on the first). */
  async insertIfAbsent(
    db: Queryable,
    ca: { id: string; certificate: string; privateKeySealed: string },
  ): Promise<void> {
    await db.query(
      `INSERT INTO broker.client_ca (id, certificate, private_key_sealed) VALUES ($1, $2, $3)
       ON CONFLICT (id) DO NOTHING`,
      [ca.id, ca.certificate, ca.privateKeySealed],
    );
  },
};
