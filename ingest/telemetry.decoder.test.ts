import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../domain/clock.ts';
import { policyForCity } from '../domain/policy.ts';
import { topics } from '../domain/topics.ts';
import type { DeviceLocation } from '../domain/topology.schema.ts';
import { DeviceLocations } from './device-locations.ts';
import { decoder } from './telemetry.decoder.ts';
import { TelemetryValidator } from './telemetry.validator.ts';

const loc: DeviceLocation = { deviceId: 'sen-1', kind: 'room_sensor', roomId: 'r-1', intervalMin: 10, enabled: true };
const locations = new DeviceLocations({ locate: () => undefined, allLocations: () => [loc] }, new ManualClock(0));
locations.loadAll();
const decode = decoder(new TelemetryValidator(policyForCity('beijing')), locations, pino({ level: 'silent' }));

describe('decoder', () => {
  it('gives a rejected message its own copy of the payload: the entry may be a view into a buffer that is read into again', () => {
    const now = Date.now();
    const texts = ['{not json', JSON.stringify({ ts: now, temp: 99 }), JSON.stringify({ ts: now, temp: 20 })];
    const read = Buffer.from(texts.join(''));
    let off = 0;
    const entries = texts.map((t, i) => {
      const payload = read.subarray(off, (off += t.length));
      return { seq: i + 1, topic: i === 0 ? 'heat/v1/devices/sen-1/bogus' : topics.telemetry('sen-1'), payload, at: now };
    });
    const works = entries.map(decode);
    read.fill(0); // the reader's next read
    expect(works.map((w) => w.rejections.map((r) => [r.reason, Buffer.from(r.raw).toString()]))).toEqual([
      [['bad_topic', texts[0]]],
      [['out_of_range', texts[1]]],
      [],
    ]);
    expect(works[2]!.readings).toEqual([{ deviceId: 'sen-1', kind: 'room_sensor', ts: now, fields: { temp: 20 }, roomId: 'r-1' }]);
  });
});
