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
});
