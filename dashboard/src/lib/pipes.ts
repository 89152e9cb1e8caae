/**
 * The primary network drawn from the registry alone (no pipe geometry is stored): per branch
 * (station.branchId), a tree grown from its heat source, each station joined to the nearest
 * point already on the branch (Prim's algorithm). A branch thus reads as one pipe leaving the
 * source and forking towards its stations, instead of a zig-zag through them in id order.
 */
import type { XY } from './geo.ts';

export interface BranchMember {
  readonly id: string;
  readonly xy: XY;
}

export interface BranchTree {
  /** Segments as [from, to] in world coordinates; the first leaves the source (the trunk). */
  readonly edges: readonly (readonly [XY, XY])[];
}

const d2 = (a: XY, b: XY) => (a.x - b.x) ** 2 + (a.y - b.y) ** 2;

/** O(n²) in the branch's stations, which number tens (a branch is ~15 stations, at most a few hundred). */
export function branchTree(origin: XY, members: readonly BranchMember[]): BranchTree {
  const edges: [XY, XY][] = [];
  const onTree: XY[] = [origin];
  const best = members.map((m) => ({ m, d: d2(m.xy, origin), from: origin }));
  while (best.length > 0) {
    let k = 0;
    for (let i = 1; i < best.length; i++) if (best[i]!.d < best[k]!.d) k = i;
    const next = best.splice(k, 1)[0]!;
    edges.push([next.from, next.m.xy]);
    onTree.push(next.m.xy);
    for (const b of best) {
      const d = d2(b.m.xy, next.m.xy);
      if (d < b.d) {
        b.d = d;
        b.from = next.m.xy;
      }
    }
  }
  return { edges };
}

/** The branch number people say ("3号支线") from a registry branch id such as `src-01-br03`; the id itself otherwise. */
export function branchNumber(branchId: string): string {
  const m = /br0*(\d+)$/i.exec(branchId);
  return m ? m[1]! : branchId;
}
