import { describe, expect, it } from 'vitest';
import { boundsOf, fitView, project, tilesFor, toScreen, zoomAt } from './geo.ts';

describe('map geometry', () => {
  it('projects lon/lat to the unit Web-Mercator square', () => {
    expect(project({ lat: 0, lon: 0 })).toEqual({ x: 0.5, y: 0.5 });
    const bj = project({ lat: 39.9, lon: 116.4 });
    expect(bj.x).toBeCloseTo(0.8233, 3);
    expect(bj.y).toBeLessThan(0.5); // north is up
  });

  it('fits the bounds inside the padded viewport', () => {
    const pts = [project({ lat: 39.8, lon: 116.2 }), project({ lat: 40.0, lon: 116.6 })];
    const v = fitView(boundsOf(pts)!, 800, 600, 40);
    for (const p of pts) {
      const s = toScreen(p, v, 800, 600);
      expect(s.x).toBeGreaterThanOrEqual(39.999);
      expect(s.x).toBeLessThanOrEqual(760.001);
      expect(s.y).toBeGreaterThanOrEqual(39.999);
      expect(s.y).toBeLessThanOrEqual(560.001);
    }
  });

  it('keeps the point under the cursor fixed when zooming', () => {
    const v = { cx: 0.5, cy: 0.5, scale: 1000 };
    const world = { x: 0.5 + 100 / 1000, y: 0.5 - 50 / 1000 };
    const before = toScreen(world, v, 800, 600);
    const z = zoomAt(v, 2, before.x, before.y, 800, 600);
    const after = toScreen(world, z, 800, 600);
    expect(after.x).toBeCloseTo(before.x, 6);
    expect(after.y).toBeCloseTo(before.y, 6);
    expect(z.scale).toBe(2000);
  });

  it('lists the XYZ tiles covering the view', () => {
    const tiles = tilesFor({ cx: 0.5, cy: 0.5, scale: 512 }, 512, 512);
    expect(tiles.every((t) => t.z === 1)).toBe(true);
    expect(tiles).toHaveLength(4);
  });
});
