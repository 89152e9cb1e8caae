/**
 * Orders from predicted_cold through the API's public contracts (issue #20): the ingest's
 * incident events are published on the incidents topic with MQTT.js from the ingest's service
 * account, through the real broker, exactly as the ingest's forecaster sends them; everything is
 * read back over REST as a dispatcher, the field team and the auditor would. Opened: a proactive
 * order that says it is a forecast, in the reader's language from a stored key. Not escalated
 * while only predicted (N21). Avoided: withdrawn automatically with the reason, audited.
 * Confirmed by the real apartment_cold: the same order goes on as a repair order and escalates
 * from then (N21).
 */
import type { MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HOUR_MS } from '../domain/clock.ts';
import type { Incident, IncidentEvent } from '../domain/incident.schema.ts';
import type { Order } from '../domain/orders/order.ts';
import { topics } from '../domain/topics.ts';
import { T0, type TestApi } from './api-fixture.ts';
import { startApiOverMqtt, type ApiOverMqtt } from './api-mqtt.fixture.ts';
import { waitFor } from './harness/ports.ts';

const SVC = 'svc-secret-for-predicted-orders-test';
let m: ApiOverMqtt;
let t: TestApi;
let ingest: MqttClient;
beforeAll(async () => {
  m = await startApiOverMqtt(SVC);
  ({ t, ingest } = m);
});
afterAll(() => m?.close());

/** Publish an incident event as the ingest does (QoS 1) and wait until the API shows that state of it over REST. */
async function send(ev: IncidentEvent): Promise<void> {
  await ingest.publishAsync(topics.incidents, JSON.stringify(ev), { qos: 1 });
  await waitFor(
    async () => {
      const r = await t.req('GET', `/api/v1/incidents/${encodeURIComponent(ev.incident.id)}`, 'dispatcher');
      return r.statusCode === 200 && r.json<{ incident: Incident }>().incident.status === ev.incident.status;
    },
    { what: `${ev.type} ${ev.incident.id} taken` },
  );
}

const predictedId = (apt: string) => `predicted_cold:${apt}:${T0}`;
function predicted(
  apt: string,
  type: IncidentEvent['type'] = 'opened',
  outcome?: 'avoided' | 'confirmed',
  confirmedBy?: string,
): IncidentEvent {
  const now = t.clock.now();
  return {
    type,
    at: now,
    incident: {
      id: predictedId(apt),
      kind: 'predicted_cold',
      subjectType: 'apartment',
      subjectId: apt,
      apartmentId: apt,
      stationId: 's1',
      status: type === 'resolved' ? 'resolved' : 'open',
      startTs: T0,
      ...(type === 'resolved' ? { endTs: now } : {}),
      severity: 'minor',
      cause: 'station',
      evidence: {
        probability: 0.8,
        firstBelowAt: T0 + 6 * HOUR_MS,
        predictedMinC: 17.2,
        sigmaC: 0.6,
        ...(outcome ? { outcome } : {}),
        ...(confirmedBy ? { confirmedBy } : {}),
      },
    },
  };
}
const cold = (apt: string, at: number): IncidentEvent => ({
  type: 'opened',
  at,
  incident: {
    id: `apartment_cold:${apt}:${at}`,
    kind: 'apartment_cold',
    subjectType: 'apartment',
    subjectId: apt,
    apartmentId: apt,
    stationId: 's1',
    status: 'open',
    startTs: at - HOUR_MS,
    severity: 'major',
    cause: 'station',
    evidence: { apartmentC: 17.4 },
  },
});
const orderOf = async (apt: string, who = 'dispatcher'): Promise<Order> => {
  const list = (await t.req('GET', `/api/v1/orders?apartmentId=${apt}`, who)).json<Order[]>();
  expect(list).toHaveLength(1);
  return (await t.req('GET', `/api/v1/orders/${list[0]!.id}`, who)).json<Order>();
};

describe('a predicted order that is avoided', () => {
  let id: string;

  it('opens as a proactive order that says it is a forecast, stored as a key the screen renders in either language', async () => {
    await send(predicted('b1-a11'));
    const o = await orderOf('b1-a11');
    id = o.id;
    expect(o).toMatchObject({
      source: 'proactive',
      status: 'new',
      prediction: { incidentId: predictedId('b1-a11'), state: 'predicted' },
      contentText: { key: 'proactive_predicted', params: { kind: 'predicted_cold', cause: 'station', firstBelowAt: T0 + 6 * HOUR_MS } },
    });
    // The paper form's Chinese text is kept for print and older readers.
    expect(o.content).toContain('尚未发生');
    // The field team's copy carries it too (they must know it is a check, not a repair yet).
    const team = (await t.req('GET', `/api/v1/orders/${id}?view=team`, 'staff-o1')).json<Record<string, unknown>>();
    expect(team).toMatchObject({ contentText: { key: 'proactive_predicted' }, prediction: { state: 'predicted' } });
  });

  it('does not escalate while only predicted (N21: no repair to count yet)', async () => {
    t.clock.advance(30 * HOUR_MS);
    await t.relogin(); // sessions expire on the driven clock
    t.app.heat.tick();
    const o = (await t.req('GET', `/api/v1/orders/${id}`, 'dispatcher')).json<Order>();
    expect(o.escalations).toEqual([]); // N21
    expect(o.slaBreaches).toEqual([]);
  });

  it('is withdrawn with the reason when the horizon passes without a real cold incident, and audited', async () => {
    await send(predicted('b1-a11', 'resolved', 'avoided'));
    await send(predicted('b1-a11', 'resolved', 'avoided')); // QoS 1 redelivery changes nothing
    const o = (await t.req('GET', `/api/v1/orders/${id}`, 'dispatcher')).json<Order>();
    expect(o.status).toBe('cancelled');
    expect(o.prediction).toMatchObject({ state: 'avoided', outcome: { key: 'prediction_avoided', params: { untilAt: t.clock.now() } } });
    expect(o.history.at(-1)).toMatchObject({ by: 'system', action: 'cancel', to: 'cancelled' });
    expect(o.history.at(-1)!.note).toContain('预测的室温不足没有发生');
    const audit = (await t.req('GET', `/api/v1/audit?entity=order&entityId=${id}`, 'admin')).json<
      { action: string; actor: string; detail: { withdrawn: boolean } }[]
    >();
    const a = audit.filter((x) => x.action === 'prediction_avoided');
    expect(a).toHaveLength(1);
    expect(a[0]).toMatchObject({ actor: 'system', detail: { withdrawn: true } });
    // Later ticks do nothing to it.
    t.clock.advance(100 * HOUR_MS);
    await t.relogin();
    t.app.heat.tick();
    expect((await t.req('GET', `/api/v1/orders/${id}`, 'dispatcher')).json<Order>().escalations).toEqual([]);
  });
});

describe('a predicted order the real cold confirms', () => {
  let id: string;
  let confirmedAt: number;

  it('keeps the same order: the real apartment_cold joins it and it becomes a repair order', async () => {
    await send(predicted('b1-a12'));
    id = (await orderOf('b1-a12')).id;
    t.clock.advance(5 * HOUR_MS);
    confirmedAt = t.clock.now();
    const real = cold('b1-a12', confirmedAt);
    await send(real);
    // The forecaster's own "confirmed" follows; it changes nothing more.
    await send(predicted('b1-a12', 'resolved', 'confirmed', real.incident.id));
    const o = await orderOf('b1-a12');
    expect(o.id).toBe(id);
    expect(o.status).toBe('new');
    expect(o.incidentIds).toEqual([predictedId('b1-a12'), real.incident.id]);
    expect(o.prediction).toMatchObject({
      state: 'confirmed',
      confirmedBy: real.incident.id,
      confirmedAt,
      outcome: { key: 'prediction_confirmed' },
    });
    const audit = (await t.req('GET', `/api/v1/audit?entity=order&entityId=${id}`, 'admin')).json<{ action: string }[]>();
    expect(audit.filter((x) => x.action === 'prediction_confirmed')).toHaveLength(1);
  });

  it('escalates by N21 from the confirmation: 24 h later to its own office head, not before', async () => {
    t.clock.set(confirmedAt + 23 * HOUR_MS);
    await t.relogin();
    t.app.heat.tick();
    expect((await t.req('GET', `/api/v1/orders/${id}`, 'dispatcher')).json<Order>().escalations).toEqual([]);
    t.clock.set(confirmedAt + 24 * HOUR_MS);
    t.app.heat.tick();
    const o = (await t.req('GET', `/api/v1/orders/${id}`, 'dispatcher')).json<Order>();
    expect(o.escalations.map((e) => [e.level, e.at])).toEqual([['station_head', confirmedAt + 24 * HOUR_MS]]); // N21
  });
});

describe('a predicted order a worker has reached', () => {
  it('is not pulled from under the worker on site when the prediction is avoided: it is marked, and the visit finishes as usual', async () => {
    await send(predicted('b2-a21'));
    const { id } = await orderOf('b2-a21');
    const step = async (path: string, who: string, body: unknown = {}) =>
      expect((await t.req('POST', `/api/v1/orders/${id}/${path}`, who, body)).statusCode).toBe(200);
    await step('dispatch', 'dispatcher', { assignee: 'Wang' });
    await step('accept', 'staff-o1');
    await step('arrive', 'staff-o1');
    await send(predicted('b2-a21', 'resolved', 'avoided'));
    const o = (await t.req('GET', `/api/v1/orders/${id}`, 'dispatcher')).json<Order>();
    expect(o.status).toBe('on_site');
    expect(o.prediction).toMatchObject({ state: 'avoided', outcome: { key: 'prediction_avoided_on_site' } });
  });
});

describe('a predicted order a resident complains about', () => {
  it('takes the complaint as linked (N4), and is not withdrawn when the sensor stays warm: the resident says they are cold', async () => {
    await send(predicted('b2-a22'));
    const predictedOrder = await orderOf('b2-a22');
    const r = await t.req('POST', '/api/v1/orders', 'dispatcher', { apartmentId: 'b2-a22', content: '卧室很冷', channel: 'hotline' });
    expect(r.json<{ linked: boolean; order: Order }>()).toMatchObject({ linked: true, order: { linkedOrderId: predictedOrder.id } });
    await send(predicted('b2-a22', 'resolved', 'avoided'));
    const o = (await t.req('GET', `/api/v1/orders/${predictedOrder.id}`, 'dispatcher')).json<Order>();
    expect(o.status).toBe('new');
    expect(o.prediction?.state).toBe('predicted');
    expect(o.history.at(-1)!.note).toContain('did not happen');
  });
});
