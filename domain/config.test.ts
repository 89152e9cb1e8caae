import { describe, expect, it } from 'vitest';
import { ConfigError, parseConfig } from './config.ts';

describe('parseConfig', () => {
  it('gives the documented defaults on an empty environment', () => {
    const c = parseConfig({});
    expect(c).toMatchObject({ mqttPort: 1883, mqttWsPort: 8083, httpPort: 8080, dataDir: './data', demo: true });
    expect(c.influx).toBeUndefined();
    expect(Object.isFrozen(c)).toBe(true);
  });
  it('lists every bad variable in one error', () => {
    try {
      parseConfig({ MQTT_PORT: 'x', HTTP_PORT: '70000', DEMO: 'maybe', INFLUX_URL: 'ftp://a' });
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(ConfigError);
      const p = (e as ConfigError).problems.join('\n');
      for (const v of ['MQTT_PORT', 'HTTP_PORT', 'DEMO', 'INFLUX_URL']) expect(p).toContain(v);
    }
  });
  it('reads InfluxDB settings', () => {
    const c = parseConfig({ INFLUX_URL: 'http://127.0.0.1:8086/', INFLUX_DB: 'city', INFLUX_TOKEN: 't' });
    expect(c.influx).toEqual({ url: 'http://127.0.0.1:8086', db: 'city', token: 't', user: undefined, password: undefined });
  });
  it('refuses an unknown CITY and lists the known ones', () => {
    expect(() => parseConfig({ CITY: 'harbn' })).toThrow(/CITY="harbn" is not a known city \(one of: beijing, tianjin, harbin, qingdao\)/);
    expect(parseConfig({ CITY: 'harbin' }).city).toBe('harbin');
  });
  it('validates the ingest tuning variables', () => {
    expect(parseConfig({}).ingest).toEqual({
      spoolMaxMessages: undefined,
      spoolSync: 'full',
      rules: true,
      clientId: 'svc-ingest',
      feed: 'spool',
    });
    expect(
      parseConfig({ INGEST_SPOOL_MAX: '500', INGEST_SPOOL_SYNC: 'normal', INGEST_RULES: '0', INGEST_CLIENT_ID: 'svc-ingest-b' }).ingest,
    ).toEqual({
      spoolMaxMessages: 500,
      spoolSync: 'normal',
      rules: false,
      clientId: 'svc-ingest-b',
      feed: 'spool',
    });
    expect(parseConfig({ INGEST_FEED: 'mqtt' }).ingest.feed).toBe('mqtt');
    expect(() => parseConfig({ INGEST_FEED: 'kafka' })).toThrow(/INGEST_FEED="kafka" is not 'spool' or 'mqtt'/);
  });
  it('feeds a broker cluster over MQTT: one spool has one writer', () => {
    expect(parseConfig({ REDIS_URL: 'redis://127.0.0.1:6379' }).ingest.feed).toBe('mqtt');
    expect(() => parseConfig({ REDIS_URL: 'redis://127.0.0.1:6379', INGEST_FEED: 'spool' })).toThrow(
      /INGEST_FEED=spool cannot be used with REDIS_URL/,
    );
    expect(() => parseConfig({ INGEST_SPOOL_MAX: '-1', INGEST_SPOOL_SYNC: 'fast' })).toThrow(/INGEST_SPOOL_MAX[\s\S]*INGEST_SPOOL_SYNC/);
  });
});
