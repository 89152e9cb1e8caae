/**
 * Web-Mercator projection to a unit square (0…1), so the map is drawn from the platform's own
 * geometry with no tiles, and an optional XYZ tile layer lines up when one is configured.
 */
import type { GeoPoint } from './api.ts';

export interface XY {
  readonly x: number;
  readonly y: number;
}

export function project(p: GeoPoint): XY {
  const lat = Math.max(-85.05, Math.min(85.05, p.lat));
  const s = Math.sin((lat * Math.PI) / 180);
  return { x: (p.lon + 180) / 360, y: 0.5 - Math.log((1 + s) / (1 - s)) / (4 * Math.PI) };
}

export interface Bounds {
  readonly minX: number;
  readonly minY: number;
  readonly maxX: number;
  readonly maxY: number;
}

export function boundsOf(points: readonly XY[]): Bounds | undefined {
  if (points.length === 0) return undefined;
  let minX = Infinity,
    minY = Infinity,
    maxX = -Infinity,
    maxY = -Infinity;
  for (const p of points) {
    if (p.x < minX) minX = p.x;
    if (p.y < minY) minY = p.y;
    if (p.x > maxX) maxX = p.x;
    if (p.y > maxY) maxY = p.y;
  }
  return { minX, minY, maxX, maxY };
}

/** View: world (unit-square) point at the screen centre and pixels per world unit. */
export interface View {
  readonly cx: number;
  readonly cy: number;
  readonly scale: number;
}

export function fitView(b: Bounds, widthPx: number, heightPx: number, paddingPx = 40): View {
  const w = Math.max(b.maxX - b.minX, 1e-7);
  const h = Math.max(b.maxY - b.minY, 1e-7);
  const scale = Math.min((widthPx - 2 * paddingPx) / w, (heightPx - 2 * paddingPx) / h);
  return { cx: (b.minX + b.maxX) / 2, cy: (b.minY + b.maxY) / 2, scale: Math.max(scale, 1) };
}

export function toScreen(p: XY, v: View, widthPx: number, heightPx: number): XY {
  return { x: (p.x - v.cx) * v.scale + widthPx / 2, y: (p.y - v.cy) * v.scale + heightPx / 2 };
}

/** Zoom by `factor` keeping the world point under screen (sx, sy) fixed. */
export function zoomAt(
  v: View,
  factor: number,
  sx: number,
  sy: number,
  widthPx: number,
  heightPx: number,
  minScale = 1,
  maxScale = 1e9,
): View {
  const scale = Math.min(maxScale, Math.max(minScale, v.scale * factor));
  const wx = v.cx + (sx - widthPx / 2) / v.scale;
  const wy = v.cy + (sy - heightPx / 2) / v.scale;
  return { scale, cx: wx - (sx - widthPx / 2) / scale, cy: wy - (sy - heightPx / 2) / scale };
}

/** XYZ tiles covering the view (for an optional configured tile URL). */
export function tilesFor(
  v: View,
  widthPx: number,
  heightPx: number,
): { z: number; x: number; y: number; sx: number; sy: number; size: number }[] {
  const z = Math.max(0, Math.min(19, Math.round(Math.log2(v.scale / 256))));
  const n = 2 ** z;
  const size = v.scale / n;
  const x0 = Math.floor((v.cx - widthPx / 2 / v.scale) * n);
  const x1 = Math.floor((v.cx + widthPx / 2 / v.scale) * n);
  const y0 = Math.floor((v.cy - heightPx / 2 / v.scale) * n);
  const y1 = Math.floor((v.cy + heightPx / 2 / v.scale) * n);
  const out = [];
  for (let x = Math.max(0, x0); x <= Math.min(n - 1, x1); x++)
    for (let y = Math.max(0, y0); y <= Math.min(n - 1, y1); y++) {
      const s = toScreen({ x: x / n, y: y / n }, v, widthPx, heightPx);
      out.push({ z, x, y, sx: s.x, sy: s.y, size });
    }
  return out;
}
