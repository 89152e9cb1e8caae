/**
 * A rules snapshot the engine refuses is set aside, not lost: it is renamed to
 * `rules-snapshot.json.refused-<time>` byte for byte, the refusal is logged with where it
 * went, the engine starts fresh, and the next snapshot written does not overwrite it. Real
 * engine (RulesEngine.restore through liveRules), real files.
 */
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { fixtureCity, fixturePolicy } from '../domain/rules/city.fixture.ts';
import { liveRules } from './rules.port.ts';
import { RulesSnapshotRepository, rulesSnapshotFile, type RulesSnapshot } from './rules-snapshot.repository.ts';

const city = fixtureCity();
const restore = (snap: RulesSnapshot) => liveRules({ city: () => city, policy: fixturePolicy, snapshot: snap.engine });
const AT = Date.UTC(2026, 11, 2, 3, 4, 5, 678);

let dir: string;
let logged: { obj: Record<string, unknown>; msg: string }[];
const log = { error: (obj: object, msg: string) => logged.push({ obj: obj as Record<string, unknown>, msg }) };
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'heat-snap-'));
  logged = [];
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** A real snapshot of the engine on the fixture city, as the ingest writes it. */
function goodSnapshot(): RulesSnapshot {
  return { at: AT, seq: 42, engine: liveRules({ city: () => city, policy: fixturePolicy }).snapshot(), lastTs: { d1: AT } };
}

describe('rules snapshot repository', () => {
  it('restores a good snapshot and leaves it where it is', async () => {
    const repo = new RulesSnapshotRepository(dir);
    await repo.write(goodSnapshot());
    const loaded = repo.load(restore, log);
    expect(loaded?.snapshot).toMatchObject({ seq: 42, lastTs: { d1: AT } });
    expect(loaded?.restored.snapshot()).toEqual(goodSnapshot().engine);
    expect(logged).toEqual([]);
    expect(readdirSync(dir)).toEqual(['rules-snapshot.json']);
  });

  it.each([
    ['an unknown version', (e: Record<string, unknown>) => ({ ...e, version: 99 }), /unsupported rules snapshot version 99/],
    [
      'a column that does not line up with its ids',
      (e: Record<string, unknown>) => {
        const s = e.stations as { ids: string[]; values: Record<string, unknown[]> };
        const [col] = Object.keys(s.values);
        s.values[col!] = [...s.values[col!]!, 1];
        return e;
      },
      /rules snapshot refused: stations\.values\.\w+ has/,
    ],
  ])('sets aside a snapshot with %s, logs it, and the next write keeps it', async (_what, spoil, why) => {
    const repo = new RulesSnapshotRepository(dir, { now: () => AT });
    const bad = goodSnapshot();
    await repo.write({ ...bad, engine: spoil(JSON.parse(JSON.stringify(bad.engine)) as Record<string, unknown>) });
    const evidence = readFileSync(rulesSnapshotFile(dir));

    expect(repo.load(restore, log)).toBeUndefined();
    const keptAs = join(dir, 'rules-snapshot.json.refused-2026-12-02T03-04-05-678Z');
    expect(logged).toHaveLength(1);
    expect(logged[0]!.msg).toBe('rules snapshot refused and set aside; the rules engine starts fresh');
    expect(logged[0]!.obj).toMatchObject({ keptAs });
    expect(String(logged[0]!.obj.err)).toMatch(why);
    expect(readFileSync(keptAs).equals(evidence)).toBe(true);

    // The engine started fresh; its first snapshot goes under the usual name, beside the evidence.
    await repo.write(goodSnapshot());
    expect(readdirSync(dir).sort()).toEqual(['rules-snapshot.json', 'rules-snapshot.json.refused-2026-12-02T03-04-05-678Z']);
    expect(readFileSync(keptAs).equals(evidence)).toBe(true);
    expect(repo.load(restore, log)?.snapshot.seq).toBe(42);
  });

  it('sets aside a file that is not JSON, and a second refusal in the same millisecond gets its own name', () => {
    const repo = new RulesSnapshotRepository(dir, { now: () => AT });
    writeFileSync(rulesSnapshotFile(dir), '{"at": 1, "engine": {');
    expect(repo.load(restore, log)).toBeUndefined();
    writeFileSync(rulesSnapshotFile(dir), '{"at": 2}');
    expect(repo.load(restore, log)).toBeUndefined();
    expect(String(logged[1]!.obj.err)).toMatch(/no engine state/);
    expect(readdirSync(dir).sort()).toEqual([
      'rules-snapshot.json.refused-2026-12-02T03-04-05-678Z',
      'rules-snapshot.json.refused-2026-12-02T03-04-05-678Z-1',
    ]);
    expect(readFileSync(join(dir, 'rules-snapshot.json.refused-2026-12-02T03-04-05-678Z'), 'utf8')).toBe('{"at": 1, "engine": {');
  });

  it('has nothing to load, and nothing to set aside, without a file', () => {
    const repo = new RulesSnapshotRepository(dir);
    expect(repo.load(restore, log)).toBeUndefined();
    expect(repo.setAside()).toBeUndefined();
    expect(logged).toEqual([]);
  });
});
