/**
 * Reproduction (found by tests/chaos.test.ts): aedes 1.2 with aedes-persistence-level and one
 * persistent-session (clean: false) QoS 1 subscriber PUBACKs QoS 1 messages that then reach
 * no subscriber at all (not even a clean one). With the default memory persistence, or with
 * Debian's mosquitto, every acknowledged message arrives.
 *   npx tsx tests/harness/aedes-level-loss.repro.mts level   → "missing N" with N > 0 (1–9 %)
 *   npx tsx tests/harness/aedes-level-loss.repro.mts memory  → "missing 0"
 */
import { mkdtempSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Aedes } from 'aedes';
import levelPersistence from 'aedes-persistence-level';
import { Level } from 'level';
import mqtt from 'mqtt';
import { TelemetryLoad } from './load.ts';
import { freePort } from './ports.ts';

const level = process.argv[2] !== 'memory';
const broker = await Aedes.createBroker(level ? { persistence: levelPersistence(new Level(mkdtempSync(join(tmpdir(), 'lvl-')))) } : {});
const port = await freePort();
const srv = createServer(broker.handle);
await new Promise<void>((r) => srv.listen(port, '127.0.0.1', () => r()));
const url = `mqtt://127.0.0.1:${port}`;
const probe = await mqtt.connectAsync(url, { clientId: 'probe', protocolVersion: 4 });
const seen = new Set<string>();
probe.on('message', (t, pl) => seen.add(`${t.split('/')[3]}@${(JSON.parse(pl.toString()) as { ts: number }).ts}`));
await probe.subscribeAsync('heat/v1/devices/+/telemetry', { qos: 1 });
const persistent = await mqtt.connectAsync(url, { clientId: 'persistent', protocolVersion: 4, clean: false });
await persistent.subscribeAsync('heat/v1/devices/+/telemetry', { qos: 1 });
const load = new TelemetryLoad({
  mqttUrl: url,
  secret: 'x',
  devices: Array.from({ length: 60 }, (_, i) => `d${i}`),
  readingsPerSec: 200,
  name: 'repro',
  track: true,
});
await load.connect();
load.start();
await new Promise((r) => setTimeout(r, 5000));
await load.drain();
await new Promise((r) => setTimeout(r, 2000));
const missing = [...load.ackedKeys].filter((k) => !seen.has(k));
console.log(`${level ? 'level' : 'memory'}: acknowledged ${load.acked}, delivered ${seen.size}, missing ${missing.length}`);
await load.close();
await probe.endAsync();
await persistent.endAsync();
srv.close();
broker.close();
