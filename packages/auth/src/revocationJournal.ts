import type { Database, Migration, Queryable } from '@openpks/db';
import { checkRevocation, type Revocation, type RevocationList } from './revocations.js';

/**
 * UAA's published revocations: a table in UAA's schema that every role reads (the one UAA table that is
 * an interface), and a `LISTEN/NOTIFY` channel that wakes readers up the moment a revocation commits.
 * The table is the truth (a notification can be missed; a role that starts later still needs what was
 * revoked before), the channel only makes it quick.
 */
export const REVOCATION_CHANNEL = 'uaa_revocations';

/** The journal's table, created by UAA's migrations (`uaa` schema). */
export const revocationJournalMigration: Migration = {
  id: '0004_revocation_journal',
  sql: `
CREATE TABLE revocations (
  id bigserial PRIMARY KEY,
  jti text,
  user_id text,
  client_id text,
  rev_sigs text[],
  keys boolean NOT NULL DEFAULT false,
  created timestamptz NOT NULL DEFAULT now(),
  expires_at timestamptz NOT NULL
);
CREATE INDEX revocations_expires_at ON revocations (expires_at);
`,
};

/** Records a revocation; with `tx`, it is published when (and only if) that transaction commits. */
export async function publishRevocation(db: Database, revocation: Revocation, tx?: Queryable): Promise<void> {
  checkRevocation(revocation);
  const { jti, userId, clientId, revSigs, keys } = revocation;
  const q = tx ?? db;
  await q.query(
    `INSERT INTO uaa.revocations (jti, user_id, client_id, rev_sigs, keys, expires_at)
     VALUES ($1, $2, $3, $4, $5, $6)`,
    [
      jti ?? null,
      userId ?? null,
      clientId ?? null,
      revSigs ? [...revSigs] : null,
      keys === true,
      revocation.expiresAt,
    ],
  );
  await db.notify(REVOCATION_CHANNEL, '', tx);
}

/** Drops revocations no token can match any more; UAA runs it with its other clean-ups. */
export async function purgeExpiredRevocations(q: Queryable, now: Date): Promise<void> {
  await q.query(`DELETE FROM uaa.revocations WHERE expires_at <= $1`, [now]);
}

export interface FollowRevocationsOptions {
  /**
   * How often the journal is read even without a notification (a LISTEN connection that dropped, a
   * notification lost in a reconnect): the bound on how late a revocation can reach this process.
   */
  pollMs?: number;
  /** Where a failing read is reported (once per run of failures, not once a second). */
  onError?: (error: unknown) => void;
}

/**
 * Rows committed out of id order (two revocations in concurrent transactions) would be skipped by a plain
 * `id > last`; rows this recent are read again, and the ids already applied are remembered.
 */
const REREAD_WINDOW_SECONDS = 10;

/**
 * Feeds `list` from the journal: every revocation still in force now, then each new one, within a poll
 * interval at worst and about a round trip when the notification arrives. Resolves once the revocations
 * in force have been read (or the first read failed and was reported); the returned function stops it.
 */
export async function followRevocations(
  db: Database,
  list: RevocationList,
  options: FollowRevocationsOptions = {},
): Promise<() => Promise<void>> {
  const pollMs = options.pollMs ?? 1_000;
  const applied = new Map<string, number>();
  let lastId = 0n;
  let failing = false;
  let running: Promise<void> | undefined;
  let again = false;
  let stopped = false;

  const read = async (): Promise<void> => {
    const { rows } = await db.query<{
      id: string;
      jti: string | null;
      user_id: string | null;
      client_id: string | null;
      rev_sigs: string[] | null;
      keys: boolean;
      expires_at: Date;
    }>(
      `SELECT r.id::text AS id, r.jti, r.user_id, r.client_id, r.rev_sigs, r.keys, r.expires_at
       FROM uaa.revocations r
       WHERE r.expires_at > now() AND (r.id > $1 OR r.created > now() - make_interval(secs => $2))
       ORDER BY r.id`,
      [lastId.toString(), REREAD_WINDOW_SECONDS],
    );
    const now = Date.now();
    for (const [id, until] of applied) if (until <= now) applied.delete(id);
    for (const row of rows) {
      if (applied.has(row.id)) continue;
      const expiresAt = new Date(row.expires_at);
      applied.set(row.id, Math.max(expiresAt.getTime(), now + REREAD_WINDOW_SECONDS * 1000));
      if (BigInt(row.id) > lastId) lastId = BigInt(row.id);
      list.add({
        ...(row.jti === null ? {} : { jti: row.jti }),
        ...(row.user_id === null ? {} : { userId: row.user_id }),
        ...(row.client_id === null ? {} : { clientId: row.client_id }),
        ...(row.rev_sigs === null ? {} : { revSigs: row.rev_sigs }),
        ...(row.keys ? { keys: true } : {}),
        expiresAt,
      });
    }
  };

  // One read at a time; a wake-up during a read asks for one more after it.
  const catchUp = (): Promise<void> => {
    if (stopped) return Promise.resolve();
    if (running) {
      again = true;
      return running;
    }
    running = read()
      .then(
        () => {
          failing = false;
        },
        (error: unknown) => {
          if (!failing) options.onError?.(error);
          failing = true;
        },
      )
      .finally(() => {
        running = undefined;
        if (again) {
          again = false;
          void catchUp();
        }
      });
    return running;
  };

  const unlisten = await db.listen(REVOCATION_CHANNEL, () => void catchUp());
  await catchUp();
  const timer = setInterval(() => void catchUp(), pollMs);
  timer.unref();
  return async () => {
    stopped = true;
    clearInterval(timer);
    await unlisten();
    await running;
  };
}
