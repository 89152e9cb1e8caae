/**
 * Map labels that stay inside the map: each label is tried beside its marker (right, left,
 * above, below), the first place that lies inside the frame and overlaps no label placed
 * before it wins; when none is free, the first one inside the frame; when the text is wider
 * than the frame allows on either side, it is clamped to the frame. Pure geometry, so the
 * unit spec checks it without a browser; the map measures the text (canvas) and draws.
 */
import type { XY } from './geo.ts';

/** A text's measured extent: width, and the font box above and below the baseline (px). */
export interface TextSize {
  readonly w: number;
  readonly ascent: number;
  readonly descent: number;
}

export interface LabelRequest {
  readonly key: string;
  /** The marker's centre on screen. */
  readonly at: XY;
  /** The marker's radius: the label keeps this far plus a gap from the centre. */
  readonly r: number;
  readonly size: TextSize;
}

/** Where to draw a label: `x` is the left edge (text-anchor start), `y` the baseline; `box` its extent. */
export interface PlacedLabel {
  readonly key: string;
  readonly x: number;
  readonly y: number;
  readonly box: Box;
}

export interface Box {
  readonly left: number;
  readonly top: number;
  readonly right: number;
  readonly bottom: number;
}

/** Frame the labels must stay inside; `exclude` are areas drawn over the map (its buttons). */
export interface Frame {
  readonly width: number;
  readonly height: number;
  readonly margin?: number;
  readonly exclude?: readonly Box[];
}

const GAP_PX = 4;

const overlaps = (a: Box, b: Box): boolean => a.left < b.right && b.left < a.right && a.top < b.bottom && b.top < a.bottom;

function boxAt(x: number, y: number, s: TextSize): Box {
  return { left: x, top: y - s.ascent, right: x + s.w, bottom: y + s.descent };
}

export function placeLabels(requests: readonly LabelRequest[], frame: Frame): PlacedLabel[] {
  const m = frame.margin ?? 2;
  const inside = (b: Box) => b.left >= m && b.top >= m && b.right <= frame.width - m && b.bottom <= frame.height - m;
  const taken: Box[] = [...(frame.exclude ?? [])];
  const out: PlacedLabel[] = [];
  for (const q of requests) {
    const { at, r, size } = q;
    const d = r + GAP_PX;
    // Baseline that centres the font box on the marker.
    const midY = at.y + (size.ascent - size.descent) / 2;
    const candidates: XY[] = [
      { x: at.x + d, y: midY }, // right
      { x: at.x - d - size.w, y: midY }, // left
      { x: at.x - size.w / 2, y: at.y - d - size.descent }, // above
      { x: at.x - size.w / 2, y: at.y + d + size.ascent }, // below
    ];
    const boxes = candidates.map((c) => ({ c, b: boxAt(c.x, c.y, size) }));
    const pick =
      boxes.find(({ b }) => inside(b) && !taken.some((t) => overlaps(t, b))) ??
      boxes.find(({ b }) => inside(b)) ??
      clampInto(boxes[0]!.c, size, frame, m);
    taken.push(pick.b);
    out.push({ key: q.key, x: pick.c.x, y: pick.c.y, box: pick.b });
  }
  return out;
}

/** The right-hand place moved into the frame (a text wider than the frame starts at its left margin). */
function clampInto(c: XY, s: TextSize, frame: Frame, m: number): { c: XY; b: Box } {
  const x = Math.max(m, Math.min(c.x, frame.width - m - s.w));
  const y = Math.max(m + s.ascent, Math.min(c.y, frame.height - m - s.descent));
  return { c: { x, y }, b: boxAt(x, y, s) };
}

const measured = new Map<string, TextSize>();
let ctx: CanvasRenderingContext2D | null | undefined;

/**
 * A text's size in a CSS font, as the SVG text box will have it (canvas metrics of the same
 * font: advance width, and the font's ascent/descent, which is what an SVG text's bounding box
 * spans). Cached per font and text; an estimate when there is no canvas (server, unit tests).
 */
export function measureText(text: string, font: string, fontSizePx: number): TextSize {
  const k = `${font}|${text}`;
  const hit = measured.get(k);
  if (hit) return hit;
  if (ctx === undefined) ctx = typeof document === 'undefined' ? null : document.createElement('canvas').getContext('2d');
  let s: TextSize;
  if (ctx) {
    ctx.font = font;
    const m = ctx.measureText(text);
    s = { w: m.width, ascent: m.fontBoundingBoxAscent ?? fontSizePx, descent: m.fontBoundingBoxDescent ?? fontSizePx * 0.3 };
  } else {
    // CJK glyphs are about one em wide, Latin about 0.6 em.
    let em = 0;
    for (const ch of text) em += /[\u2e80-\u9fff\uff00-\uffef]/.test(ch) ? 1 : 0.6;
    s = { w: em * fontSizePx, ascent: fontSizePx * 1.16, descent: fontSizePx * 0.3 };
  }
  measured.set(k, s);
  return s;
}
