import type { Queryable } from '@openpks/db';

export interface AuditRecord {
  id: string;
  at: Date;
  actor: string;
  clientId: string;
  action: string;
  target: string | null;
  parameters: Record<string, unknown>;
  outcome: 'succeeded' | 'failed';
  errorCode: string | null;
  message: string | null;
}

export const auditStore = {
  async write(db: Queryable, event: Omit<AuditRecord, 'id' | 'at'>): Promise<void> {
    await db.query(
      `INSERT INTO api.audit_events (actor, client_id, action, target, parameters, outcome, error_code, message)
       VALUES ($1,$2,$3,$4,$5::jsonb,$6,$7,$8)`,
      [
        event.actor,
        event.clientId,
        event.action,
        event.target,
        JSON.stringify(event.parameters),
        event.outcome,
        event.errorCode,
        event.message,
      ],
    );
  },
  async list(db: Queryable, filter: { actor?: string; limit: number }): Promise<AuditRecord[]> {
    const result = await db.query<{
      id: string;
      at: Date;
      actor: string;
      client_id: string;
      action: string;
      target: string | null;
      parameters: Record<string, unknown>;
      outcome: 'succeeded' | 'failed';
      error_code: string | null;
      message: string | null;
    }>(`SELECT * FROM api.audit_events WHERE ($1::text IS NULL OR actor = $1) ORDER BY id DESC LIMIT $2`, [
      filter.actor ?? null,
      filter.limit,
    ]);
    return result.rows.map((r) => ({
      id: String(r.id),
      at: new Date(r.at),
      actor: r.actor,
      clientId: r.client_id,
      action: r.action,
      target: r.target,
      parameters: r.parameters,
      outcome: r.outcome,
      errorCode: r.error_code,
      message: r.message,
    }));
  },
};
