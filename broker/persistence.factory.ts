/**
 * Where sessions, subscriptions, retained messages and queued QoS>0 messages live:
 * - REDIS_URL set → aedes-persistence-redis + mqemitter-redis (several broker processes
 *   share sessions and route messages to each other: cluster mode);
 * - a persistence dir → LevelDB on disk (classic-level), survives restarts and SIGKILL
 *   (writes reach the OS before the call resolves);
 * - neither → aedes' in-memory default (unit tests).
 */
import { mkdirSync } from 'node:fs';
import { Redis } from 'ioredis';
import { Level } from 'level';
import levelPersistence, { type AedesPersistence } from 'aedes-persistence-level';
import redisPersistence from 'aedes-persistence-redis';
import MQEmitterRedis from 'mqemitter-redis';

export interface PersistenceChoice {
  readonly kind: 'memory' | 'level' | 'redis';
  readonly persistence?: AedesPersistence;
  readonly mq?: unknown;
  /** Release what aedes.close() does not (aedes closes the mq itself). */
  close(): Promise<void>;
}

export function openPersistence(opts: { persistenceDir?: string; redisUrl?: string }): PersistenceChoice {
  if (opts.redisUrl) {
    const conn = new Redis(opts.redisUrl, { lazyConnect: false });
    const persistence = redisPersistence({ conn });
    const mq = MQEmitterRedis({ connectionString: opts.redisUrl });
    return {
      kind: 'redis',
      persistence,
      mq,
      close: async () => {
        await persistence.destroy();
      },
    };
  }
  if (opts.persistenceDir) {
    mkdirSync(opts.persistenceDir, { recursive: true });
    const db = new Level(opts.persistenceDir);
    const persistence = levelPersistence(db);
    return {
      kind: 'level',
      persistence,
      close: async () => {
        if (db.status === 'open' || db.status === 'opening') await db.close();
      },
    };
  }
  return { kind: 'memory', close: async () => {} };
}
