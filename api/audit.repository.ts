/** Audit log: who changed which order, person or device, when, and how. Append-only. */
import type Database from 'better-sqlite3';
import type { Static } from 'typebox';
import type { AuditEntrySchema } from '../domain/operations.schema.ts';
import { SqliteRepository } from './sqlite.repository.ts';
import { whereOf } from '../storage/records/sql.filter.ts';

/** One audit record (domain/operations.schema.ts AuditEntrySchema); `access` is a request refused by the default-deny check. */
export type AuditEntry = Static<typeof AuditEntrySchema>;

export class AuditRepository extends SqliteRepository {
  constructor(db: Database.Database) {
    super(db);
  }

  add(e: Omit<AuditEntry, 'id'>): void {
    this.db
      .prepare('INSERT INTO audit_log (at, actor, entity, entity_id, action, detail) VALUES (?, ?, ?, ?, ?, ?)')
      .run(e.at, e.actor, e.entity, e.entityId, e.action, e.detail === undefined ? null : JSON.stringify(e.detail));
  }

  list(f: { entity?: string; entityId?: string; limit?: number } = {}): AuditEntry[] {
    const w = whereOf([
      ['entity = ?', f.entity],
      ['entity_id = ?', f.entityId],
    ]);
    const rows = this.prep(`SELECT * FROM audit_log${w.sql} ORDER BY id DESC LIMIT ?`).all(...w.args, f.limit ?? 500) as Record<
      string,
      unknown
    >[];
    return rows.map((r) => ({
      id: r.id as number,
      at: r.at as number,
      actor: r.actor as string,
      entity: r.entity as AuditEntry['entity'],
      entityId: r.entity_id as string,
      action: r.action as string,
      ...(r.detail ? { detail: JSON.parse(r.detail as string) as unknown } : {}),
    }));
  }
}
