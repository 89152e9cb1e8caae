/// <reference types="svelte" />
/// <reference types="vite/client" />

interface ImportMetaEnv {
  /** Optional XYZ tile URL template ({z}/{x}/{y}); unset → the map draws only its own geometry. */
  readonly VITE_TILE_URL?: string;
}
