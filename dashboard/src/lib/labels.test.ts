import { describe, expect, it } from 'vitest';
import { placeLabels, type Box } from './labels.ts';
import { branchNumber, branchTree } from './pipes.ts';

const size = { w: 80, ascent: 12, descent: 3 };
const inside = (b: Box, w: number, h: number) => b.left >= 0 && b.top >= 0 && b.right <= w && b.bottom <= h;

describe('map labels', () => {
  it('puts a label right of its marker when it fits', () => {
    const [l] = placeLabels([{ key: 'a', at: { x: 100, y: 100 }, r: 7, size }], { width: 400, height: 300 });
    expect(l!.x).toBeGreaterThan(107);
    expect(l!.box.top).toBeLessThan(100);
    expect(l!.box.bottom).toBeGreaterThan(100);
  });

  it('flips a label left at the right edge (the rightmost station of the demo city)', () => {
    const [l] = placeLabels([{ key: 'a', at: { x: 370, y: 100 }, r: 7, size }], { width: 400, height: 300 });
    expect(l!.box.right).toBeLessThan(370);
    expect(inside(l!.box, 400, 300)).toBe(true);
  });

  it('keeps labels at the corners and wider than either side inside the frame', () => {
    const corners = [
      { x: 1, y: 1 },
      { x: 399, y: 1 },
      { x: 1, y: 299 },
      { x: 399, y: 299 },
      { x: 200, y: 150 },
    ];
    const wide = { w: 380, ascent: 12, descent: 3 };
    for (const at of corners) {
      for (const s of [size, wide]) {
        const [l] = placeLabels([{ key: 'a', at, r: 7, size: s }], { width: 400, height: 300 });
        expect(inside(l!.box, 400, 300), `${at.x},${at.y} w${s.w}`).toBe(true);
      }
    }
  });

  it('moves a second label off the first, and off the map buttons', () => {
    const [a, b] = placeLabels(
      [
        { key: 'a', at: { x: 100, y: 100 }, r: 7, size },
        { key: 'b', at: { x: 104, y: 102 }, r: 7, size },
      ],
      { width: 400, height: 300 },
    );
    const apart = a!.box.right <= b!.box.left || b!.box.right <= a!.box.left || a!.box.bottom <= b!.box.top || b!.box.bottom <= a!.box.top;
    expect(apart).toBe(true);
    const buttons = { left: 300, top: 0, right: 400, bottom: 40 };
    const [c] = placeLabels([{ key: 'c', at: { x: 300, y: 20 }, r: 7, size }], { width: 400, height: 300, exclude: [buttons] });
    expect(c!.box.right <= buttons.left || c!.box.top >= buttons.bottom).toBe(true);
  });
});

describe('primary network', () => {
  it('grows each branch from its source, joining every station to the nearest point already on it', () => {
    const src = { x: 0, y: 0 };
    const members = [
      { id: 'far', xy: { x: 10, y: 1 } },
      { id: 'near', xy: { x: 5, y: 0 } },
      { id: 'side', xy: { x: 5, y: 3 } },
    ];
    const { edges } = branchTree(src, members);
    expect(edges).toHaveLength(3);
    expect(edges[0]).toEqual([src, { x: 5, y: 0 }]); // the trunk leaves the source
    expect(edges).toContainEqual([
      { x: 5, y: 0 },
      { x: 5, y: 3 },
    ]);
    expect(edges).toContainEqual([
      { x: 5, y: 0 },
      { x: 10, y: 1 },
    ]);
  });

  it('names a branch by its registry number', () => {
    expect(branchNumber('src-01-br03')).toBe('3');
    expect(branchNumber('north-main')).toBe('north-main');
  });
});
