// Type stubs for CommonJS packages that ship none; only what broker/ uses.
declare module 'aedes-persistence-level' {
  export interface AedesPersistence {
    setup(broker: unknown): Promise<void>;
    destroy(cb?: () => void): Promise<void> | void;
    outgoingEnqueueCombi(subs: readonly { qos: number }[], packet: unknown, cb?: unknown): Promise<void> | void;
  }
  /** Takes a `level` (abstract-level) database instance. */
  const factory: (db: unknown) => AedesPersistence;
  export default factory;
}

declare module 'aedes-persistence-redis' {
  import type { AedesPersistence } from 'aedes-persistence-level';
  const factory: (opts: { conn?: unknown; maxSessionDelivery?: number }) => AedesPersistence;
  export default factory;
}
