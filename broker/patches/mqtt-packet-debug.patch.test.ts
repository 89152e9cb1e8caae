import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/**
 * A fresh process each (the patch acts once, when it is first imported): the patch, then
 * mqtt-packet as aedes imports it; DEBUG is switched on for mqtt-packet at run time, after
 * loading, which a real debug instance obeys and the no-op does not; then one packet is
 * generated and parsed.
 */
const CHILD = `
import { createRequire } from 'node:module';
import { mqttPacketDebug, noOpDebug } from './broker/patches/mqtt-packet-debug.patch.ts';
import mqtt from 'mqtt-packet';
import createDebug from 'debug';
const fromMqttPacket = createRequire(createRequire(import.meta.url).resolve('mqtt-packet'));
const debugPath = fromMqttPacket.resolve('debug');
const factoryOf = (file) => fromMqttPacket.cache[fromMqttPacket.resolve(file)].children.find((m) => m.id === debugPath).exports;
createDebug.enable('mqtt-packet:*');
let parsed = 0;
const parser = mqtt.parser();
parser.on('packet', () => parsed++);
parser.parse(mqtt.generate({ cmd: 'publish', topic: 'heat/v1/devices/d1/telemetry', payload: Buffer.from('{}'), qos: 1, messageId: 7 }));
console.log(JSON.stringify({
  mode: mqttPacketDebug,
  parser: factoryOf('./parser.js') === noOpDebug,
  writer: factoryOf('./writeToStream.js') === noOpDebug,
  othersReal: fromMqttPacket('debug') === createDebug && createDebug !== noOpDebug,
  parsed,
}));
`;

function child(debug: string | undefined): { out: Record<string, unknown>; stderr: string } {
  // Nothing inherited: DEBUG only as given.
  const env = debug === undefined ? {} : { DEBUG: debug };
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', CHILD], { cwd: root, env, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`child failed (${r.status}): ${r.stderr}`);
  return { out: JSON.parse(r.stdout.trim().split('\n').at(-1)!) as Record<string, unknown>, stderr: r.stderr };
}

describe('mqtt-packet debug patch', () => {
  it('gives mqtt-packet a no-op debug factory when DEBUG does not enable it; others keep the real one', () => {
    for (const debug of [undefined, 'aedes:*']) {
      const { out, stderr } = child(debug);
      expect(out).toEqual({ mode: 'no-op', parser: true, writer: true, othersReal: true, parsed: 1 });
      expect(stderr).not.toContain('mqtt-packet:');
    }
  });

  it('keeps the real debug for mqtt-packet with DEBUG=mqtt-packet:*', () => {
    const { out, stderr } = child('mqtt-packet:*');
    expect(out).toEqual({ mode: 'real', parser: false, writer: false, othersReal: true, parsed: 1 });
    expect(stderr).toContain('mqtt-packet:parser _parsePublish');
    expect(stderr).toContain('mqtt-packet:writeToStream publish');
  });
});
