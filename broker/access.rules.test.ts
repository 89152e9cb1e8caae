import { describe, expect, it } from 'vitest';
import { topics } from '../domain/topics.ts';
import { filterCovered, publishRefusal, subscribeRefusal, topicMatches, type Principal } from './access.rules.ts';

const device = (id: string, gatewayDevices: string[] = []): Principal => ({
  kind: 'device',
  id,
  isGateway: gatewayDevices.length > 0,
  gatewayDevices: new Set(gatewayDevices),
});
const service = (...scopes: ('ingest' | 'api' | 'replay' | 'admin')[]): Principal => ({ kind: 'service', id: 'svc', scopes });
/** The pairs `relation` gets wrong: a `yes` pair it denies, a `no` pair it grants (empty when all are right). */
const misjudged = (relation: (a: string, b: string) => boolean, yes: [string, string][], no: [string, string][]) => [
  ...yes.filter(([a, b]) => !relation(a, b)).map(([a, b]) => `${a} ~ ${b} should hold`),
  ...no.filter(([a, b]) => relation(a, b)).map(([a, b]) => `${a} ~ ${b} should not hold`),
];

describe('topic matching', () => {
  it('matches MQTT filters', () => {
    const yes: [string, string][] = [
      ['a/+/c', 'a/b/c'],
      ['a/#', 'a/b/c'],
      ['a/#', 'a'],
    ];
    const no: [string, string][] = [
      ['a/+', 'a/b/c'],
      ['#', '$SYS/x'],
    ];
    expect(misjudged(topicMatches, yes, no)).toEqual([]);
  });
  it('agrees with the plain split-based definition on every filter/topic pair of a small alphabet', () => {
    const reference = (filter: string, topic: string): boolean => {
      const f = filter.split('/');
      const t = topic.split('/');
      for (let i = 0; i < f.length; i++) {
        if (f[i] === '#') return i === 0 ? !topic.startsWith('$') : true;
        if (i >= t.length) return false;
        if (f[i] === '+') {
          if (i === 0 && t[0]!.startsWith('$')) return false;
          continue;
        }
        if (f[i] !== t[i]) return false;
      }
      return f.length === t.length;
    };
    const levels = ['', 'a', 'ab', '$s'];
    const topicsOf = (n: number): string[] =>
      n === 0 ? [''] : topicsOf(n - 1).flatMap((p) => levels.map((l) => (n === 1 ? l : `${p}/${l}`)));
    const allTopics = [1, 2, 3].flatMap(topicsOf);
    const filterLevels = [...levels, '+', '#'];
    const filtersOf = (n: number): string[] =>
      n === 0 ? [''] : filtersOf(n - 1).flatMap((p) => filterLevels.map((l) => (n === 1 ? l : `${p}/${l}`)));
    let checked = 0;
    const disagree: string[] = [];
    for (const f of [1, 2, 3].flatMap(filtersOf)) {
      for (const t of allTopics) {
        if (topicMatches(f, t) !== reference(f, t)) disagree.push(`${f} ~ ${t}`);
        checked++;
      }
    }
    expect(disagree).toEqual([]);
    expect(checked).toBeGreaterThan(10_000);
  });
  it('knows when one filter is covered by another', () => {
    const telemetry = 'heat/v1/devices/+/telemetry';
    const covered: [string, string][] = [
      [telemetry, telemetry],
      ['heat/v1/devices/d1/telemetry', telemetry],
      ['heat/v1/platform/#', 'heat/v1/platform/#'],
    ];
    const notCovered: [string, string][] = [
      ['heat/v1/#', 'heat/v1/platform/#'],
      ['heat/v1/devices/#', telemetry],
      ['#', telemetry],
    ];
    expect(misjudged(filterCovered, covered, notCovered)).toEqual([]);
  });
});

describe('device ACL (protocol v1)', () => {
  it('publishes only its own telemetry and status', () => {
    const d = device('d1');
    expect(publishRefusal(d, topics.telemetry('d1'))).toBeUndefined();
    expect(publishRefusal(d, topics.status('d1'))).toBeUndefined();
    expect(publishRefusal(d, topics.telemetry('d2'))).toBe('publish_denied');
    expect(publishRefusal(d, topics.config('d1'))).toBe('publish_denied');
    expect(publishRefusal(d, topics.incidents)).toBe('publish_denied');
    expect(publishRefusal(d, topics.gatewayTelemetry('d1', 'd1'))).toBe('publish_denied');
  });
  it('subscribes only to its own config, never with wildcards', () => {
    const d = device('d1');
    expect(subscribeRefusal(d, topics.config('d1'))).toBeUndefined();
    expect(subscribeRefusal(d, topics.config('d2'))).toBe('subscribe_denied');
    expect(subscribeRefusal(d, '#')).toBe('wildcard_denied');
    expect(subscribeRefusal(d, topics.config('+'))).toBe('wildcard_denied');
    expect(subscribeRefusal(d, topics.telemetry('d1'))).toBe('subscribe_denied');
  });
  it('lets a gateway act only for the devices assigned to it', () => {
    const gw = device('gw', ['s1']);
    expect(publishRefusal(gw, topics.gatewayTelemetry('gw', 's1'))).toBeUndefined();
    expect(publishRefusal(gw, topics.gatewayTelemetry('gw', 's2'))).toBe('publish_denied');
    expect(publishRefusal(gw, topics.gatewayTelemetry('gw2', 's1'))).toBe('publish_denied');
    expect(subscribeRefusal(gw, topics.config('s1'))).toBeUndefined();
    expect(subscribeRefusal(gw, topics.config('s2'))).toBe('subscribe_denied');
  });
});

describe('service scopes', () => {
  it('ingest reads telemetry and status, writes incidents and live', () => {
    const s = service('ingest');
    for (const f of [...topics.allTelemetry, topics.allStatus, topics.registryChanged]) expect(subscribeRefusal(s, f)).toBeUndefined();
    expect(subscribeRefusal(s, '#')).toBe('subscribe_denied');
    expect(publishRefusal(s, topics.incidents)).toBeUndefined();
    expect(publishRefusal(s, topics.live)).toBeUndefined();
    expect(publishRefusal(s, topics.config('d1'))).toBe('publish_denied');
  });
  it('api reads platform/# and status, writes config and registry notices', () => {
    const s = service('api');
    expect(subscribeRefusal(s, 'heat/v1/platform/#')).toBeUndefined();
    expect(subscribeRefusal(s, topics.incidents)).toBeUndefined();
    expect(subscribeRefusal(s, topics.allTelemetry[0])).toBe('subscribe_denied');
    expect(publishRefusal(s, topics.config('d1'))).toBeUndefined();
    expect(publishRefusal(s, topics.registryChanged)).toBeUndefined();
    expect(publishRefusal(s, topics.telemetry('d1'))).toBe('publish_denied');
  });
  it('replay publishes telemetry for any device; admin does anything but $SYS stays guarded for others', () => {
    expect(publishRefusal(service('replay'), topics.telemetry('any'))).toBeUndefined();
    expect(publishRefusal(service('replay'), topics.incidents)).toBe('publish_denied');
    expect(publishRefusal(service('api'), '$SYS/x')).toBe('publish_denied');
    expect(subscribeRefusal(service('admin'), '#')).toBeUndefined();
  });
});
