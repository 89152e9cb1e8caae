import { describe, expect, it } from 'vitest';
import { MetricsRecorder, toPrometheus } from './metrics.ts';

describe('broker metrics', () => {
  it('samples rates and renders Prometheus text with every refusal reason', () => {
    const m = new MetricsRecorder();
    m.sample(1_000);
    m.messagesIn = 50;
    m.messagesOut = 100;
    m.sample(3_000);
    expect(m.rates).toEqual({ in: 25, out: 50 });
    m.refuse('bad_credentials');
    const base = {
      brokerId: 'b"1',
      connectedClients: 2,
      connectedDevices: 1,
      connectedServices: 1,
      messagesIn: 50,
      messagesOut: 100,
      messagesInPerSec: 25,
      messagesOutPerSec: 50,
      bytesIn: 10,
      queueDepth: 4,
      queueDepthSource: 'store' as const,
      refusals: m.refusals,
      authFailures: 0,
      authThrottledNow: 0,
      pendingConnections: 1,
      storeWriteErrors: 0,
      storeFailing: null,
      uptimeSec: 3,
    };
    const text = toPrometheus(base);
    expect(text).toContain('heat_broker_refusals_total{broker="b\\"1",reason="bad_credentials"} 1');
    expect(text).toContain('heat_broker_refusals_total{broker="b\\"1",reason="drain_timeout"} 0');
    expect(text).toContain('heat_broker_messages_in_per_second{broker="b\\"1"} 25');
    expect(text).toContain('heat_broker_queue_depth{broker="b\\"1",source="store"} 4');
    expect(text.endsWith('\n')).toBe(true);
    // Redis cluster: no per-process queue depth, so no sample (rather than a wrong 0).
    const cluster = toPrometheus({ ...base, queueDepth: null, queueDepthSource: 'unavailable' });
    expect(cluster).toContain('# TYPE heat_broker_queue_depth gauge');
    expect(cluster).not.toMatch(/^heat_broker_queue_depth\{/m);
  });
});
