import { describe, expect, it } from 'vitest';
import { whereOf } from './sql.filter.ts';

describe('whereOf', () => {
  it('binds the filters that are set, in order, and leaves out the rest', () => {
    expect(
      whereOf([
        ['status = ?', 'open'],
        ['kind = ?', undefined],
        ['station_id = ?', ''],
        ["status IN ('new')", true],
        ["status IN ('closed')", false],
        ['id < ?', 0],
      ]),
    ).toEqual({ sql: " WHERE status = ? AND status IN ('new') AND id < ?", args: ['open', 0] });
  });
  it('is empty when nothing is set', () => {
    expect(whereOf([['a = ?', undefined]])).toEqual({ sql: '', args: [] });
  });
  it('never splices a value into the SQL', () => {
    expect(whereOf([['name = ?', "x' OR '1'='1"]]).sql).toBe(' WHERE name = ?');
  });
});
