import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { Outbox } from './outbox.ts';

describe('outbox (#15: events leave only after commit)', () => {
  const db = new Database(':memory:');
  db.exec('CREATE TABLE t (id INTEGER PRIMARY KEY)');
  const tx = <T>(fn: () => T): T => db.transaction(fn)();

  it('holds an event until the transaction commits, and the row is visible when it leaves', () => {
    const box = new Outbox();
    const seen: { inTx: boolean; rows: number }[] = [];
    box.run(tx, () => {
      db.prepare('INSERT INTO t (id) VALUES (1)').run();
      box.push(() => seen.push({ inTx: db.inTransaction, rows: (db.prepare('SELECT count(*) AS n FROM t').get() as { n: number }).n }));
      expect(seen).toEqual([]);
    });
    expect(seen).toEqual([{ inTx: false, rows: 1 }]);
  });

  it('drops the events of a rolled-back transaction', () => {
    const box = new Outbox();
    const seen: string[] = [];
    expect(() =>
      box.run(tx, () => {
        db.prepare('INSERT INTO t (id) VALUES (2)').run();
        box.push(() => seen.push('never'));
        throw new Error('boom');
      }),
    ).toThrow('boom');
    expect(seen).toEqual([]);
    expect(box.pending).toBe(0);
    expect(db.prepare('SELECT count(*) AS n FROM t WHERE id = 2').get()).toEqual({ n: 0 });
  });

  it('nested: an inner rollback caught by the outer drops only the inner events', () => {
    const box = new Outbox();
    const seen: string[] = [];
    box.run(tx, () => {
      box.push(() => seen.push('outer'));
      try {
        box.run(tx, () => {
          box.push(() => seen.push('inner'));
          throw new Error('inner');
        });
      } catch {
        // the outer transaction goes on
      }
      expect(seen).toEqual([]);
    });
    expect(seen).toEqual(['outer']);
  });

  it('outside a transaction an event leaves at once', () => {
    const box = new Outbox();
    const seen: string[] = [];
    box.push(() => seen.push('now'));
    expect(seen).toEqual(['now']);
  });
});
