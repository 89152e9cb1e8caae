/**
 * `npm run bench [-- --quick] [-- --only name,name]`: runs every bench/<name>.bench.ts,
 * prints one table (figure, baseline, ratio, target, pass/fail) and writes it as JSON under
 * bench/results/. Each bench starts and stops what it needs itself.
 */
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { passes, ratio, type BenchModule, type BenchRow } from './types.ts';

const here = dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const quick = args.includes('--quick');
const onlyIdx = args.indexOf('--only');
const only = onlyIdx >= 0 ? (args[onlyIdx + 1] ?? '').split(',') : undefined;

const files = readdirSync(here)
  .filter((f) => f.endsWith('.bench.ts'))
  .sort()
  .filter((f) => !only || only.includes(f.replace('.bench.ts', '')));

const rows: (BenchRow & { bench: string; error?: string })[] = [];
const benchStarted = Date.now();
for (const f of files) {
  const bench = f.replace('.bench.ts', '');
  const started = Date.now();
  console.log(`\n▶ ${bench}${quick ? ' (quick)' : ''}`);
  try {
    const mod = (await import(join(here, f))) as BenchModule;
    for (const r of await mod.run({ quick, log: (m) => console.log(`  ${m}`) })) rows.push({ ...r, bench });
  } catch (e) {
    console.error(`  ✗ ${bench} failed: ${(e as Error).stack ?? String(e)}`);
    rows.push({ bench, name: `${bench}: failed`, value: Number.NaN, unit: '', error: String(e) });
  }
  console.log(`  (${((Date.now() - started) / 1000).toFixed(1)} s)`);
}

const fmt = (n: number | undefined) =>
  n === undefined || Number.isNaN(n) ? '—' : Math.abs(n) >= 100 ? Math.round(n).toLocaleString('en-US') : n.toFixed(2);
const table = rows.map((r) => {
  const p = passes(r);
  return {
    figure: r.name,
    value: `${fmt(r.value)} ${r.unit}`.trim(),
    baseline: r.baseline ? `${fmt(r.baseline.value)} (${r.baseline.name})` : '—',
    ratio: fmt(ratio(r)),
    target: r.target
      ? `${r.target.kind === 'ratio' || r.target.kind === 'min' ? '≥' : '≤'} ${r.target.value}${r.target.kind === 'ratio' || r.target.kind === 'ratioMax' ? '×' : ''}`
      : '—',
    result: r.error ? 'ERROR' : p === undefined ? '' : p ? 'pass' : 'FAIL',
  };
});
console.log('');
const cols = ['figure', 'value', 'baseline', 'ratio', 'target', 'result'] as const;
const width = Object.fromEntries(cols.map((c) => [c, Math.max(c.length, ...table.map((t) => t[c].length))]));
const line = (t: Record<string, string>) => cols.map((c) => t[c]!.padEnd(width[c]!)).join(' │ ');
console.log(line(Object.fromEntries(cols.map((c) => [c, c]))));
console.log(cols.map((c) => '─'.repeat(width[c]!)).join('─┼─'));
for (const t of table) console.log(line(t));
// Why each failed row failed (a bench's own FAILED note, or the error that ended the bench).
for (const r of rows) if (r.error ?? r.note?.startsWith('FAILED')) console.log(`✗ ${r.name}: ${r.error ?? r.note}`);

const out = join(here, 'results', `${new Date().toISOString().replace(/[:.]/g, '-')}${quick ? '-quick' : ''}.json`);
mkdirSync(dirname(out), { recursive: true });
writeFileSync(out, JSON.stringify({ quick, at: new Date().toISOString(), rows }, null, 2));
console.log(`\nwritten ${out} (all benches: ${((Date.now() - benchStarted) / 1000).toFixed(0)} s)`);
// Everything is written: end here, even if a failed bench left a client or timer open (a failed
// run, e.g. the REDIS_URL row, kept its MQTT client and held the process after the table).
process.exit(0);
