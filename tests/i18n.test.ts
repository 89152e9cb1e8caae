/** zh-CN and en carry exactly the same keys, no empty strings, and the same {placeholders}. */
import { describe, expect, it } from 'vitest';
import { en } from '../dashboard/src/i18n/en.ts';
import { zhCN } from '../dashboard/src/i18n/zh-CN.ts';

const placeholders = (s: string) => [...s.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();

describe('i18n tables', () => {
  it('have the same keys in zh-CN and en', () => {
    expect(Object.keys(en).sort()).toEqual(Object.keys(zhCN).sort());
  });

  it('have no empty texts', () => {
    for (const table of [zhCN, en] as Record<string, string>[]) {
      const empty = Object.entries(table).filter(([, v]) => v.trim() === '');
      expect(empty).toEqual([]);
    }
  });

  it('use the same placeholders in both languages', () => {
    const differing = Object.keys(zhCN).filter(
      (k) => placeholders((zhCN as Record<string, string>)[k]!).join() !== placeholders((en as Record<string, string>)[k]!).join(),
    );
    expect(differing).toEqual([]);
  });
});
