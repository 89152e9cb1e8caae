import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { errorCatalogue, HeatError } from './errors.ts';

describe('error catalogue', () => {
  const doc = readFileSync(new URL('../docs/errors.md', import.meta.url), 'utf8');

  it('documents every code with its HTTP status in docs/errors.md', () => {
    for (const [code, { status }] of Object.entries(errorCatalogue)) {
      const row = doc.split('\n').find((l) => l.startsWith(`| \`${code}\` |`));
      expect(row, code).toBeDefined();
      expect(row!.split('|')[2]!.trim(), code).toBe(String(status));
    }
  });

  it('documents no code that does not exist', () => {
    const documented = [...doc.matchAll(/^\| `(HEAT_ERR_[A-Z_]+)` \|/gm)].map((m) => m[1]);
    expect(documented.sort()).toEqual(Object.keys(errorCatalogue).sort());
  });

  it('gives each code a 4xx/5xx status and HeatError carries it', () => {
    for (const [code, { status }] of Object.entries(errorCatalogue)) {
      expect(status).toBeGreaterThanOrEqual(400);
      expect(status).toBeLessThan(600);
      const e = new HeatError(code as keyof typeof errorCatalogue);
      expect(e.status).toBe(status);
      expect(e.message).toBe(errorCatalogue[code as keyof typeof errorCatalogue].message);
    }
  });
});
