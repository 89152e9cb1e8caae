/**
 * Patched dependency: the `debug` factory mqtt-packet's parser and writer get at load time
 * (mqtt-packet 9.0.2 `parser.js` / `writeToStream.js`: `require('debug')('mqtt-packet:…')`),
 * replaced by a no-op while mqtt-packet loads, unless DEBUG enables those namespaces.
 * Checked against mqtt-packet 9.0.2 with debug 4.4.3 on Node 20.
 *
 * Why (issue 19): the parser calls `debug(...)` several times per packet (a PUBLISH: parse,
 * header, length, payload, publish… each with a rest-arguments array) and the writer on every
 * packet out. A disabled debug 4 instance still checks its namespaces on each call: ~2–3 % of
 * the broker's CPU per reading. The instances are module constants, so they cannot be
 * patched after mqtt-packet is loaded; hence this module must be imported before anything
 * that loads aedes or mqtt-packet (first import of broker/app.ts, broker/server.ts, start.ts).
 *
 * How: mqtt-packet is CommonJS (aedes, ESM, imports it; Node's ESM loader then takes the
 * CommonJS module from `require.cache`). Here mqtt-packet is required once with a no-op
 * factory in `require.cache` under the `debug` file mqtt-packet resolves, and the cache entry
 * is put back right after, so every other package still gets the real `debug`. With
 * DEBUG=mqtt-packet:* (or any pattern enabling them) nothing is replaced.
 */
import { createRequire, Module } from 'node:module';

interface DebugInstance {
  (...args: unknown[]): void;
  enabled: boolean;
  namespace: string;
  extend(ns: string): DebugInstance;
}
interface DebugFactory {
  (namespace: string): DebugInstance;
  enabled(namespace: string): boolean;
}

/** The factory mqtt-packet gets here: instances that do nothing and say they are disabled. */
export function noOpDebug(namespace: string): DebugInstance {
  const d = Object.assign(() => {}, { enabled: false, namespace, extend: (ns: string) => noOpDebug(`${namespace}:${ns}`) });
  return d;
}
noOpDebug.enabled = (): boolean => false;

const NAMESPACES = ['mqtt-packet:parser', 'mqtt-packet:writeToStream'];

/** 'no-op': mqtt-packet's modules loaded here with the no-op; 'real': DEBUG enables them; 'late': they were loaded before. */
export const mqttPacketDebug: 'no-op' | 'real' | 'late' = (() => {
  // The files that call the factory, loaded here (Node's ESM loader may already have put a
  // placeholder for mqtt-packet's entry module in the cache, but it runs it only later).
  const fromMqttPacket = createRequire(createRequire(import.meta.url).resolve('mqtt-packet'));
  const users = ['./parser.js', './writeToStream.js'].map((f) => fromMqttPacket.resolve(f));
  const cache = fromMqttPacket.cache;
  if (users.some((f) => cache[f])) return 'late';
  const debugPath = fromMqttPacket.resolve('debug');
  if (NAMESPACES.some((ns) => (fromMqttPacket('debug') as DebugFactory).enabled(ns))) return 'real';
  const real = cache[debugPath];
  const fake = new Module(debugPath);
  fake.filename = debugPath;
  fake.exports = noOpDebug;
  fake.loaded = true;
  cache[debugPath] = fake;
  try {
    for (const f of users) fromMqttPacket(f);
  } finally {
    cache[debugPath] = real;
  }
  return 'no-op';
})();
