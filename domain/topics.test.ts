import { describe, expect, it } from 'vitest';
import { parseTopic, topics } from './topics.ts';

describe('topics (device protocol v1)', () => {
  it('round-trips device topics', () => {
    expect(parseTopic(topics.telemetry('rs-1'))).toEqual({ type: 'telemetry', deviceId: 'rs-1' });
    expect(parseTopic(topics.status('rs-1'))).toEqual({ type: 'status', deviceId: 'rs-1' });
    expect(parseTopic(topics.config('rs-1'))).toEqual({ type: 'config', deviceId: 'rs-1' });
    expect(parseTopic(topics.gatewayTelemetry('gw-1', 'rs-2'))).toEqual({ type: 'telemetry', deviceId: 'rs-2', gatewayId: 'gw-1' });
  });
  it('treats anything else as unknown and never throws', () => {
    for (const t of [
      '',
      '#',
      'heat/v1/devices/+/telemetry',
      'heat/v2/devices/a/telemetry',
      'heat/v1/devices//telemetry',
      'heat/v1/devices/a/b/c',
      'x'.repeat(10_000),
    ]) {
      expect(parseTopic(t).type).toBe('unknown');
    }
  });

  it('answers the device topics fast path as the general parse does', () => {
    // The reference: the split-based parse parseTopic had before its fast path (issue 19).
    const SEGMENT = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;
    const reference = (topic: string) => {
      const p = topic.split('/');
      if (p[0] !== 'heat' || p[1] !== 'v1') return { type: 'unknown' };
      if (p.length === 5 && p[2] === 'devices' && SEGMENT.test(p[3]!)) {
        if (p[4] === 'telemetry') return { type: 'telemetry', deviceId: p[3] };
        if (p[4] === 'status') return { type: 'status', deviceId: p[3] };
        if (p[4] === 'config') return { type: 'config', deviceId: p[3] };
      }
      if (p.length === 7 && p[2] === 'gateways' && p[4] === 'devices' && p[6] === 'telemetry' && SEGMENT.test(p[3]!) && SEGMENT.test(p[5]!))
        return { type: 'telemetry', deviceId: p[5], gatewayId: p[3] };
      if (p.length === 4 && p[2] === 'platform') return { type: 'platform', name: p[3] };
      return { type: 'unknown' };
    };
    const ids = ['a', 'sen-000001', 'A.b_c-9', '-x', '.a', 'a b', '', 'x'.repeat(64), 'x'.repeat(65), '设备', '+', '#'];
    const leaves = ['telemetry', 'status', 'config', 'Telemetry', '', 'telemetry/', 'x'];
    const topicsToTry = [
      'heat/v1/devices/',
      'heat/v1/devices',
      'heat/v1/devices/a',
      'heat/v1/platform/live',
      'heat/v1/gateways/g/devices/d/telemetry',
    ];
    for (const id of ids)
      for (const leaf of leaves) topicsToTry.push(`heat/v1/devices/${id}/${leaf}`, `heat/v1/devices/${id}/${leaf}/more`);
    for (const t of topicsToTry) expect(parseTopic(t), t).toEqual(reference(t));
  });
});
