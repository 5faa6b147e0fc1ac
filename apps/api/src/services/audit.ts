import type { Queryable } from '@openpks/db';
import { isPksError } from '@openpks/domain';
import type { Logger } from '@openpks/role';
import { auditStore, type AuditRecord } from '../store/auditStore.js';
import { access, type Caller } from './access.js';

export type AuditEntry = Omit<AuditRecord, 'id' | 'at'>;

/**
 * The audit trail: every change someone asked for (who, through which client, what, the parameters without
 * secrets, how it ended), and how each operation ended. It records outcomes; it never changes them.
 */
export class Audit {
  readonly #db: Queryable;
  readonly #logger: Pick<Logger, 'error'>;

  constructor(db: Queryable, logger: Pick<Logger, 'error'>) {
    this.#db = db;
    this.#logger = logger;
  }

  /** Runs a change and writes its audit event (who, what, parameters without secrets, outcome). */
  async audited<T>(
    caller: Caller,
    action: string,
    target: string | undefined,
    parameters: Record<string, unknown>,
    fn: () => Promise<T>,
  ): Promise<T> {
    const base = {
      actor: caller.name,
      clientId: caller.clientId,
      action,
      target: target ?? null,
      parameters,
    };
    let result: T;
    try {
      result = await fn();
    } catch (error) {
      const code = isPksError(error) ? error.code : 'INTERNAL';
      await this.write({ ...base, outcome: 'failed', errorCode: code, message: (error as Error).message });
      throw error;
    }
    await this.write({ ...base, outcome: 'succeeded', errorCode: null, message: null });
    return result;
  }

  /**
   * Writes one entry; a failure is logged, not thrown: a change already sent to the broker must not be
   * reported as failed because its audit row could not be written.
   */
  async write(entry: AuditEntry, of: 'a request' | 'an operation' = 'a request'): Promise<void> {
    await auditStore.write(this.#db, entry).catch((auditError: unknown) =>
      this.#logger.error(
        {
          err: auditError,
          actor: entry.actor,
          action: entry.action,
          target: entry.target,
          outcome: entry.outcome,
        },
        `could not write the audit event of ${of}`,
      ),
    );
  }

  /** Recent entries: all for readers of every cluster, their own for everyone else. */
  list(caller: Caller, limit: number): Promise<AuditRecord[]> {
    access.requireAnyPksScope(caller);
    return auditStore.list(this.#db, { ...(access.readsAll(caller) ? {} : { actor: caller.name }), limit });
  }
}
