/**
 * Wheel zoom and drag pan on the map's live layer, as native listeners: a wheel listener must
 * be non-passive to stop the page from scrolling, which Svelte's `onwheel` cannot declare.
 * Returns the teardown for the component's `$effect`.
 */
export function mapGestures(
  node: SVGSVGElement,
  on: { zoom: (factor: number, sx: number, sy: number) => void; pan: (dx: number, dy: number) => void },
): () => void {
  let drag: { x: number; y: number } | undefined;
  const wheel = (e: WheelEvent) => {
    e.preventDefault();
    const r = node.getBoundingClientRect();
    on.zoom(e.deltaY < 0 ? 1.25 : 0.8, e.clientX - r.left, e.clientY - r.top);
  };
  const down = (e: PointerEvent) => {
    // A press on a marker is a click on it, not the start of a drag.
    if ((e.target as Element).closest('[data-station],[data-cluster]')) return;
    drag = { x: e.clientX, y: e.clientY };
    node.setPointerCapture(e.pointerId);
  };
  const move = (e: PointerEvent) => {
    if (!drag) return;
    on.pan(e.clientX - drag.x, e.clientY - drag.y);
    drag = { x: e.clientX, y: e.clientY };
  };
  const up = () => (drag = undefined);
  node.addEventListener('wheel', wheel, { passive: false });
  node.addEventListener('pointerdown', down);
  node.addEventListener('pointermove', move);
  node.addEventListener('pointerup', up);
  node.addEventListener('pointercancel', up);
  return () => {
    node.removeEventListener('wheel', wheel);
    node.removeEventListener('pointerdown', down);
    node.removeEventListener('pointermove', move);
    node.removeEventListener('pointerup', up);
    node.removeEventListener('pointercancel', up);
  };
}
