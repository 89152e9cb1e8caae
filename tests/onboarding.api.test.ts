/**
 * Onboarding over REST and CSV (issue 14), through fastify inject() on a real records.db:
 * create, update and retire every kind; apartments get rooms from a list or a named layout;
 * a CSV import is validated whole (unknown columns refused, references, positions,
 * duplicates) with a row-by-row report and nothing half-imported; every 400 names its
 * fields; the OpenAPI document says the imports take text/csv.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApi, type TestApi } from './api-fixture.ts';

let t: TestApi;
beforeAll(async () => {
  t = await startTestApi();
});
afterAll(async () => {
  await t?.close();
});

const csv = (kind: string, text: string, who = 'admin') =>
  t.req('POST', `/api/v1/onboarding/import/${kind}`, who, text, { 'content-type': 'text/csv' });
const loc = { lat: 39.91, lon: 116.41 };

describe('onboarding over REST', () => {
  it('builds office → source → station with its meter → building → apartment with rooms from a layout', async () => {
    expect((await t.req('POST', '/api/v1/offices', 'admin', { id: 'o9', name: 'North office', phone: '010-1' })).statusCode).toBe(201);
    expect((await t.req('POST', '/api/v1/sources', 'engineer', { id: 'src9', name: 'Boiler 9', location: loc })).statusCode).toBe(201);
    const st = await t.req('POST', '/api/v1/stations', 'admin', {
      id: 's9',
      name: 'Station 9',
      officeId: 'o9',
      sourceId: 'src9',
      branchId: 'br9',
      location: loc,
      system: 'radiator',
      meters: [{ id: 'sm-s9', intervalMin: 5 }],
    });
    expect(st.statusCode).toBe(201);
    const station = st.json<{ meters: { id: string }[]; secrets: Record<string, string> }>();
    expect(station.meters.map((m) => m.id)).toEqual(['sm-s9']);
    expect(station.secrets['sm-s9']).toMatch(/^[A-Za-z0-9_-]{16,}$/);
    expect(
      (
        await t.req('POST', '/api/v1/buildings', 'admin', {
          id: 'b9',
          name: 'B9',
          stationId: 's9',
          address: '9 North Road',
          location: loc,
          floors: 6,
          entrances: 2,
          unitsPerFloor: 2,
        })
      ).statusCode,
    ).toBe(201);
    const apt = await t.req('POST', '/api/v1/apartments', 'admin', {
      id: 'b9-1-101',
      buildingId: 'b9',
      entrance: 1,
      floor: 1,
      unit: 1,
      number: '1-101',
      areaM2: 80,
      layout: '2br',
    });
    expect(apt.statusCode).toBe(201);
    expect(apt.json<{ rooms: { id: string; type: string }[] }>().rooms.map((r) => `${r.id}:${r.type}`)).toEqual([
      'b9-1-101-bath:bathroom',
      'b9-1-101-bed1:bedroom',
      'b9-1-101-bed2:bedroom',
      'b9-1-101-kitchen:kitchen',
      'b9-1-101-living:living',
    ]);
    const own = await t.req('POST', '/api/v1/apartments', 'admin', {
      id: 'b9-1-102',
      buildingId: 'b9',
      entrance: 1,
      floor: 1,
      unit: 2,
      number: '1-102',
      areaM2: 50,
      rooms: [{ suffix: 'living', type: 'living', areaM2: 20 }],
    });
    expect(own.json<{ rooms: { id: string }[] }>().rooms.map((r) => r.id)).toEqual(['b9-1-102-living']);
    // The new room takes a sensor.
    expect(
      (await t.req('POST', '/api/v1/devices', 'engineer', { id: 'rs-b9-1', kind: 'room_sensor', roomId: 'b9-1-101-living' })).statusCode,
    ).toBe(201);
  });

  it('updates, refuses what does not fit, and retires only what nothing hangs on', async () => {
    const put = await t.req('PUT', '/api/v1/offices/o9', 'admin', { id: 'o9', name: 'North office (new)' });
    expect(put.statusCode).toBe(200);
    expect((await t.req('GET', '/api/v1/offices', 'admin')).json<{ id: string; name: string }[]>().find((o) => o.id === 'o9')?.name).toBe(
      'North office (new)',
    );

    const taken = await t.req('POST', '/api/v1/apartments', 'admin', {
      id: 'b9-x',
      buildingId: 'b9',
      entrance: 1,
      floor: 1,
      unit: 1,
      number: 'x',
      areaM2: 50,
      layout: '1br',
    });
    expect(taken.statusCode).toBe(400);
    expect(taken.json()).toMatchObject({ code: 'HEAT_ERR_VALIDATION', details: { fields: ['body/unit'] } });
    const noRooms = await t.req('POST', '/api/v1/apartments', 'admin', {
      id: 'b9-y',
      buildingId: 'b9',
      entrance: 2,
      floor: 7,
      unit: 1,
      number: 'y',
      areaM2: 50,
    });
    expect(noRooms.json<{ details: { fields: string[] } }>().details.fields.sort()).toEqual(['body/floor', 'body/rooms']);
    expect((await t.req('POST', '/api/v1/offices', 'admin', { id: 'o9', name: 'again' })).statusCode).toBe(409);
    expect((await t.req('POST', '/api/v1/offices', 'dispatcher', { id: 'o10', name: 'not mine' })).statusCode).toBe(403);

    const busy = await t.req('DELETE', '/api/v1/stations/s9', 'admin');
    expect(busy.statusCode).toBe(409);
    expect(busy.json()).toMatchObject({ code: 'HEAT_ERR_CONFLICT', details: { dependents: { buildings: 1, devices: 1 } } });
    expect((await t.req('DELETE', '/api/v1/rooms/b9-1-102-living', 'admin')).statusCode).toBe(200);
    expect((await t.req('GET', '/api/v1/apartments/b9-1-102/rooms', 'admin')).json()).toEqual([]);
  });

  it('every 400 names its fields, also from a handler check', async () => {
    const r = await t.req('POST', '/api/v1/devices', 'engineer', { id: 'rs-nowhere', kind: 'room_sensor', roomId: 'no-such-room' });
    expect(r.statusCode).toBe(400);
    expect(r.json()).toMatchObject({ code: 'HEAT_ERR_VALIDATION', details: { fields: ['body/roomId'] } });
    const bad = await t.req('POST', '/api/v1/offices', 'admin', '{not json', { 'content-type': 'application/json' });
    expect(bad.statusCode).toBe(400);
    expect(bad.json<{ details: { fields: string[] } }>().details.fields).toEqual(['body']);
  });
});

describe('onboarding by CSV', () => {
  it('imports a file whole, with rooms from a layout or a room list', async () => {
    const r = await csv(
      'apartments',
      'id,buildingId,entrance,floor,unit,number,areaM2,layout,rooms\r\n' +
        'b9-1-201,b9,1,2,1,1-201,80,3br,\r\n' +
        'b9-1-202,b9,1,2,2,1-202,45,,living:living:20;bed1:bedroom:12\r\n',
    );
    expect(r.statusCode).toBe(201);
    expect(r.json()).toMatchObject({ kind: 'apartments', rows: 2, imported: 2, errors: [] });
    expect((await t.req('GET', '/api/v1/apartments/b9-1-201/rooms', 'admin')).json<unknown[]>()).toHaveLength(6);
    expect((await t.req('GET', '/api/v1/apartments/b9-1-202/rooms', 'admin')).json<{ id: string }[]>().map((x) => x.id)).toEqual([
      'b9-1-202-bed1',
      'b9-1-202-living',
    ]);
  });

  it('refuses unknown columns and bad rows with a row-by-row report, and imports nothing', async () => {
    const before = (await t.req('GET', '/api/v1/stations', 'admin')).json<unknown[]>().length;
    const r = await csv(
      'stations',
      'id,name,officeId,sourceId,branchId,lat,lon,system,meterId,colour\r\n' +
        's10,Station 10,o9,src9,br9,39.9,116.4,radiator,sm-s10,red\r\n' +
        's11,Station 11,o-missing,src9,br9,39.9,116.4,steam,,\r\n' +
        's10,Again,o9,src9,br9,39.9,116.4,floor,,\r\n',
    );
    expect(r.statusCode).toBe(422);
    const report = r.json<{ code: string; details: { imported: number; errors: { row: number; field: string }[] } }>();
    expect(report.code).toBe('HEAT_ERR_IMPORT_INVALID');
    expect(report.details.imported).toBe(0);
    expect(report.details.errors.map((e) => `${e.row}:${e.field}`)).toEqual(['1:colour', '3:system', '4:id']);
    expect((await t.req('GET', '/api/v1/stations', 'admin')).json<unknown[]>()).toHaveLength(before);

    const refs = await csv(
      'stations',
      'id,name,officeId,sourceId,branchId,lat,lon,system\r\ns12,S12,o-missing,src9,br9,39.9,116.4,radiator\r\n',
    );
    expect(refs.json<{ details: { errors: { row: number; field: string }[] } }>().details.errors.map((e) => `${e.row}:${e.field}`)).toEqual(
      ['2:officeId'],
    );
    // The older import refuses unknown columns too (an apartment's rooms were silently dropped).
    const old = await t.req(
      'POST',
      '/api/v1/import/apartments',
      'admin',
      'id,buildingId,entrance,floor,unit,number,areaM2,rooms\r\nb9-2-101,b9,2,1,1,2-101,60,x\r\n',
      { 'content-type': 'text/csv' },
    );
    expect(old.statusCode).toBe(422);
    expect(old.json<{ details: { errors: { field: string }[] } }>().details.errors.map((e) => e.field)).toEqual(['rooms']);
    expect((await csv('offices', 'id,name\r\no11,x\r\n', 'dispatcher')).statusCode).toBe(403);
    expect((await t.req('POST', '/api/v1/onboarding/import/offices', 'admin', { id: 'o11' })).statusCode).toBe(415);
  });

  it('the OpenAPI document says the imports take text/csv', async () => {
    const doc = (await t.req('GET', '/api/docs/json')).json<{
      paths: Record<string, Record<string, { requestBody?: { content: Record<string, unknown> } }>>;
    }>();
    expect(Object.keys(doc.paths['/api/v1/onboarding/import/{kind}']!.post!.requestBody!.content)).toEqual(['text/csv']);
    expect(Object.keys(doc.paths['/api/v1/import/{kind}']!.post!.requestBody!.content)).toEqual(['text/csv']);
  });
});
