/**
 * `tsx bench/cpuprofile.summary.ts <file.cpuprofile> [top]`: a V8 CPU profile (node
 * --cpu-prof, e.g. from `BENCH_PROFILE_DIR=… npm run bench -- --only ingest`) summarised as
 * self time by file (node_modules packages folded to their package) and the top functions
 * by self time, as shares of the profile's busy (non-idle) time.
 */
import { readFileSync } from 'node:fs';

interface Node {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
}
interface Profile {
  nodes: Node[];
  samples: number[];
  timeDeltas: number[];
}

const where = (url: string): string => {
  if (!url) return '(native/V8)';
  const nm = url.lastIndexOf('node_modules/');
  if (nm >= 0) {
    const rest = url.slice(nm + 'node_modules/'.length).split('/');
    return rest[0]!.startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0]!;
  }
  if (url.startsWith('node:')) return url;
  const m = /\/(broker|ingest|domain|storage|api|bench|tests)\/.+$/.exec(url);
  return m ? m[0].slice(1) : url;
};

export function summarise(p: Profile, top = 25): string {
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const selfUs = new Map<number, number>();
  for (let i = 0; i < p.samples.length; i++) selfUs.set(p.samples[i]!, (selfUs.get(p.samples[i]!) ?? 0) + (p.timeDeltas[i] ?? 0));
  const byFile = new Map<string, number>();
  const byFn = new Map<string, number>();
  let busy = 0;
  let idle = 0;
  for (const [id, us] of selfUs) {
    const n = byId.get(id)!;
    const fn = n.callFrame.functionName || '(anonymous)';
    if (fn === '(idle)' || fn === '(program)') {
      idle += fn === '(idle)' ? us : 0;
      if (fn === '(idle)') continue;
    }
    busy += us;
    const f = fn === '(garbage collector)' || fn === '(program)' ? fn : where(n.callFrame.url);
    byFile.set(f, (byFile.get(f) ?? 0) + us);
    const key = `${fn} ${where(n.callFrame.url)}:${n.callFrame.lineNumber + 1}`;
    byFn.set(key, (byFn.get(key) ?? 0) + us);
  }
  const pctOf = (us: number) => `${((100 * us) / busy).toFixed(1).padStart(5)} %`;
  const lines = [`busy ${(busy / 1e6).toFixed(2)} s, idle ${(idle / 1e6).toFixed(2)} s`, '', 'self time by file / package:'];
  for (const [f, us] of [...byFile].sort((a, b) => b[1] - a[1]).slice(0, top)) lines.push(`  ${pctOf(us)}  ${f}`);
  lines.push('', 'top functions by self time:');
  for (const [f, us] of [...byFn].sort((a, b) => b[1] - a[1]).slice(0, top)) lines.push(`  ${pctOf(us)}  ${f}`);
  return lines.join('\n');
}

if (process.argv[1]?.endsWith('cpuprofile.summary.ts')) {
  const [file, top] = process.argv.slice(2);
  if (!file) throw new Error('usage: tsx bench/cpuprofile.summary.ts <file.cpuprofile> [top]');
  process.stdout.write(summarise(JSON.parse(readFileSync(file, 'utf8')) as Profile, Number(top ?? 25)) + '\n');
}
