import { describe, expect, it } from 'vitest';
import { HOUR_MS, MINUTE_MS } from '../domain/clock.ts';
import { policyForCity } from '../domain/policy.ts';
import type { DeviceLocation } from '../domain/topology.schema.ts';
import { readFileSync } from 'node:fs';
import { REJECT_REASONS, TelemetryValidator } from './telemetry.validator.ts';

const policy = policyForCity('beijing');
const v = new TelemetryValidator(policy);
const NOW = Date.parse('2026-01-10T08:00:00Z');
const room: DeviceLocation = {
  deviceId: 'sen-1',
  kind: 'room_sensor',
  roomId: 'r-1',
  apartmentId: 'a-1',
  buildingId: 'b-1',
  stationId: 's-1',
  officeId: 'of-1',
  intervalMin: 10,
  enabled: true,
};
const meter: DeviceLocation = {
  deviceId: 'met-1',
  kind: 'station_meter',
  stationId: 's-1',
  officeId: 'of-1',
  intervalMin: 5,
  enabled: true,
};
const p = (x: unknown) => Buffer.from(typeof x === 'string' ? x : JSON.stringify(x));
const reasons = (x: unknown, loc: DeviceLocation | undefined = room, gw?: string) =>
  v.validate(p(x), loc, NOW, gw).rejections.map((r) => r.reason);

describe('TelemetryValidator', () => {
  it('turns a room payload into a reading located by the registry', () => {
    const r = v.validate(p({ ts: '2026-01-10T07:50:00Z', temp: 19.5, rh: 40 }), room, NOW);
    expect(r.rejections).toEqual([]);
    expect(r.readings).toEqual([
      {
        deviceId: 'sen-1',
        kind: 'room_sensor',
        ts: Date.parse('2026-01-10T07:50:00Z'),
        fields: { temp: 19.5, rh: 40 },
        roomId: 'r-1',
        apartmentId: 'a-1',
        buildingId: 'b-1',
        stationId: 's-1',
        officeId: 'of-1',
      },
    ]);
  });

  it('validates by the registry kind, not by the payload', () => {
    expect(reasons({ ts: NOW, secondarySupplyTemp: 55 })).toEqual(['unknown_field']);
    expect(reasons({ ts: NOW, temp: 20 }, meter)).toEqual(['unknown_field']);
    expect(v.validate(p({ ts: NOW, secondarySupplyTemp: 55, pumpHz: 40 }), meter, NOW).readings).toHaveLength(1);
    expect(v.validate(p({ ts: NOW, temp: 20 }), undefined, NOW).rejections.map((r) => r.reason)).toEqual(['unknown_device']);
    expect(reasons({ ts: NOW, temp: 20 }, { ...room, enabled: false })).toEqual(['device_disabled']);
    expect(reasons({ ts: NOW, temp: 20 }, { ...room, kind: 'gateway' })).toEqual(['unsupported_kind']);
  });

  it('refuses an ISO time without an offset as such (not as a future or bad timestamp)', () => {
    expect(reasons({ ts: '2026-01-10T15:50:00', temp: 20 })).toEqual(['timestamp_without_offset']);
    expect(reasons({ ts: '2026-01-10T15:50:00.000', temp: 20 })).toEqual(['timestamp_without_offset']);
    expect(v.validate(p({ ts: '2026-01-10T15:50:00', temp: 20 }), room, NOW).rejections[0]!.detail).toBe('ts');
    for (const ts of ['2026-01-10T15:50:00+08:00', '2026-01-10T15:50:00+0800', '2026-01-10T07:50:00Z', '2026-01-10T07:50:00.5z'])
      expect(reasons({ ts, temp: 20 }), ts).toEqual([]);
  });

  it('documents every reason in docs/device-protocol.md with the field it concerns', () => {
    const doc = readFileSync(new URL('../docs/device-protocol.md', import.meta.url), 'utf8');
    for (const r of [...REJECT_REASONS, 'store_rejected'])
      expect(doc, r).toMatch(new RegExp(`^\\| \`${r}\` \\| [^|]*\\S[^|]* \\| [^|]+ \\|$`, 'm'));
  });

  it('accepts gateway delivery only for devices assigned to that gateway', () => {
    expect(reasons({ ts: NOW, temp: 20 }, { ...room, gatewayId: 'gw-1' }, 'gw-1')).toEqual([]);
    expect(reasons({ ts: NOW, temp: 20 }, { ...room, gatewayId: 'gw-1' }, 'gw-2')).toEqual(['gateway_mismatch']);
  });

  it('applies the policy range for room temperature (validation.roomTempMinC … roomTempMaxC)', () => {
    expect(reasons({ ts: NOW, temp: policy.validation.roomTempMaxC })).toEqual([]);
    expect(reasons({ ts: NOW, temp: policy.validation.roomTempMaxC + 0.1 })).toEqual(['out_of_range']);
    expect(reasons({ ts: NOW, temp: policy.validation.roomTempMinC - 0.1 })).toEqual(['out_of_range']);
    const narrow = new TelemetryValidator(policyForCity('beijing', { validation: { roomTempMinC: 0, roomTempMaxC: 40 } }));
    expect(narrow.validate(p({ ts: NOW, temp: 45 }), room, NOW).rejections[0]?.reason).toBe('out_of_range');
  });

  it('rejects wrong types, NaN/Infinity, strings and empty readings', () => {
    expect(reasons({ ts: NOW, temp: '20' })).toEqual(['wrong_type']);
    expect(reasons({ ts: NOW, temp: null })).toEqual(['wrong_type']);
    expect(reasons(`{"ts":${NOW},"temp":NaN}`)).toEqual(['bad_json']);
    expect(reasons(`{"ts":${NOW},"temp":1e999}`)).toEqual(['not_finite']);
    expect(reasons({ ts: NOW })).toEqual(['no_fields']);
    expect(reasons({ ts: NOW, rh: 40 })).toEqual(['no_fields']);
    expect(reasons('"hello"')).toEqual(['bad_shape']);
  });

  it('rejects timestamps in the future (> maxFutureSkewMin) or older than the backlog limit', () => {
    expect(reasons({ ts: NOW + policy.validation.maxFutureSkewMin * MINUTE_MS, temp: 20 })).toEqual([]);
    expect(reasons({ ts: NOW + policy.validation.maxFutureSkewMin * MINUTE_MS + 1, temp: 20 })).toEqual(['future_timestamp']);
    expect(reasons({ ts: NOW - policy.validation.maxBacklogHours * HOUR_MS - 1, temp: 20 })).toEqual(['too_old']);
    expect(reasons({ ts: '10/01/2026', temp: 20 })).toEqual(['bad_timestamp']);
  });

  it('rejects only the bad elements of a batch, and a batch over maxBatchReadings as a whole', () => {
    const r = v.validate(
      p([
        { ts: NOW - 2000, temp: 20 },
        { ts: NOW - 1000, temp: 'x' },
        { ts: NOW, temp: 21 },
      ]),
      room,
      NOW,
    );
    expect(r.readings.map((x) => x.fields.temp)).toEqual([20, 21]);
    expect(r.rejections).toMatchObject([{ reason: 'wrong_type', raw: JSON.stringify({ ts: NOW - 1000, temp: 'x' }) }]);
    const big = Array.from({ length: policy.validation.maxBatchReadings + 1 }, (_, i) => ({ ts: NOW - i, temp: 20 }));
    expect(reasons(big)).toEqual(['batch_too_large']);
    expect(reasons([])).toEqual(['empty_batch']);
  });

  it('never throws on hostile input', () => {
    expect(reasons('['.repeat(100_000) + ']'.repeat(100_000))).toHaveLength(1);
    expect(reasons('[' + '['.repeat(5000) + ']'.repeat(5000) + ']')).toEqual(['bad_shape']);
    expect(reasons(Buffer.from([0xff, 0xfe, 0x00]).toString('latin1'))).toEqual(['bad_json']);
  });
});
