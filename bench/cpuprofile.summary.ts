/**
 * `tsx bench/cpuprofile.summary.ts <file.cpuprofile> [top] [--from s] [--to s] [--timeline]`:
 * a V8 CPU profile (node --cpu-prof, e.g. from `BENCH_PROFILE_DIR=… npm run bench -- --only
 * ingest`) summarised as self time by file (node_modules packages folded to their package)
 * and the top functions by self time, as shares of the profile's busy (non-idle) time.
 *
 * A `--cpu-prof` profile covers the whole process, start-up included (tsx compiling the
 * sources is most of a short run), so `--from`/`--to` (seconds since the profile's start)
 * keep only a window of it, e.g. the bench's load phase; `--timeline` prints busy time per
 * second to find that window.
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

export interface SummaryOptions {
  readonly top?: number;
  /** Seconds since the profile's start: only samples in [from, to). */
  readonly from?: number;
  readonly to?: number;
  /** Busy ms per second of the profile, before the summary. */
  readonly timeline?: boolean;
}

export function summarise(p: Profile, o: SummaryOptions = {}): string {
  const top = o.top ?? 25;
  const from = (o.from ?? 0) * 1e6;
  const to = (o.to ?? Number.POSITIVE_INFINITY) * 1e6;
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const isIdle = (id: number) => byId.get(id)!.callFrame.functionName === '(idle)';
  const selfUs = new Map<number, number>();
  const perSecond: number[] = [];
  let t = 0;
  for (let i = 0; i < p.samples.length; i++) {
    const d = p.timeDeltas[i] ?? 0;
    t += d;
    const id = p.samples[i]!;
    if (!isIdle(id)) perSecond[Math.floor(t / 1e6)] = (perSecond[Math.floor(t / 1e6)] ?? 0) + d;
    if (t < from || t >= to) continue;
    selfUs.set(id, (selfUs.get(id) ?? 0) + d);
  }
  const byFile = new Map<string, number>();
  const byFn = new Map<string, number>();
  let busy = 0;
  let idle = 0;
  for (const [id, us] of selfUs) {
    const n = byId.get(id)!;
    const fn = n.callFrame.functionName || '(anonymous)';
    if (fn === '(idle)') {
      idle += us;
      continue;
    }
    busy += us;
    const f = fn === '(garbage collector)' || fn === '(program)' ? fn : where(n.callFrame.url);
    byFile.set(f, (byFile.get(f) ?? 0) + us);
    const key = `${fn} ${where(n.callFrame.url)}:${n.callFrame.lineNumber + 1}`;
    byFn.set(key, (byFn.get(key) ?? 0) + us);
  }
  const pctOf = (us: number) => `${((100 * us) / busy).toFixed(1).padStart(5)} %`;
  const lines: string[] = [];
  if (o.timeline) {
    lines.push('busy ms per second since the profile started:');
    for (let s = 0; s < perSecond.length; s += 10)
      lines.push(
        `  ${String(s).padStart(4)} s: ${Array.from({ length: 10 }, (_, k) => String(Math.round((perSecond[s + k] ?? 0) / 1000)).padStart(4)).join(' ')}`,
      );
    lines.push('');
  }
  const window = o.from !== undefined || o.to !== undefined ? ` (window ${o.from ?? 0}–${o.to ?? 'end'} s)` : '';
  lines.push(`busy ${(busy / 1e6).toFixed(2)} s, idle ${(idle / 1e6).toFixed(2)} s${window}`, '', 'self time by file / package:');
  for (const [f, us] of [...byFile].sort((a, b) => b[1] - a[1]).slice(0, top)) lines.push(`  ${pctOf(us)}  ${f}`);
  lines.push('', 'top functions by self time:');
  for (const [f, us] of [...byFn].sort((a, b) => b[1] - a[1]).slice(0, top)) lines.push(`  ${pctOf(us)}  ${f}`);
  return lines.join('\n');
}

if (process.argv[1]?.endsWith('cpuprofile.summary.ts')) {
  const args = process.argv.slice(2);
  const flag = (name: string) => {
    const i = args.indexOf(name);
    return i >= 0 ? Number(args.splice(i, 2)[1]) : undefined;
  };
  const from = flag('--from');
  const to = flag('--to');
  const ti = args.indexOf('--timeline');
  if (ti >= 0) args.splice(ti, 1);
  const [file, top] = args;
  if (!file) throw new Error('usage: tsx bench/cpuprofile.summary.ts <file.cpuprofile> [top] [--from s] [--to s] [--timeline]');
  const p = JSON.parse(readFileSync(file, 'utf8')) as Profile;
  process.stdout.write(summarise(p, { top: Number(top ?? 25), from, to, timeline: ti >= 0 }) + '\n');
}
