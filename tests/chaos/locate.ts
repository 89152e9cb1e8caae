/**
 * Names the last stage of the pipeline that had an acknowledged reading that never reached
 * the store. Spool mode: broker → spool file (past / up to the `committed` marker) → ingest
 * (committed, not marked stored) → store (marked stored, absent from influxd). MQTT mode:
 * broker journal (queued for the ingest's session) → ingest spool → store.
 *
 * What the spool held is known from SpoolTail, which followed it during the run (so a
 * trimmed segment still tells); the broker journal is read at the end from a copy of its
 * files (the running broker keeps writing the originals) through the broker's own class.
 */
import { cpSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { JournalPersistence, type StoredPacket } from '../../broker/journal.persistence.ts';
import type { SpoolMarks, SpoolTail } from './spool-tail.ts';

export const readingKey = (deviceId: string, ts: number): string => `${deviceId}@${ts}`;

/** The reading keys a telemetry message holds (a JSON object or an array of them). */
export function keysOf(topic: string, payload: Buffer | string | undefined): string[] {
  const device = /^heat\/v1\/devices\/([^/]+)\/telemetry$/.exec(topic)?.[1];
  if (!device || payload === undefined) return [];
  try {
    const j = JSON.parse(String(payload)) as unknown;
    const list = Array.isArray(j) ? j : [j];
    return list.flatMap((r) => (typeof (r as { ts?: unknown }).ts === 'number' ? [readingKey(device, (r as { ts: number }).ts)] : []));
  } catch {
    return [];
  }
}

export interface Missing {
  readonly key: string;
  readonly stage: string;
}

export interface LocateInput {
  readonly feed: 'spool' | 'mqtt';
  readonly tail: SpoolTail;
  /** Spool sequence numbers each missing key was seen under (empty: never seen in the spool). */
  readonly seqs: ReadonlyMap<string, readonly number[]>;
  /** The broker's persistence dir (DATA_DIR/broker; the journal is `journal/` under it). */
  readonly brokerDir: string;
  /** The ingest's client id: its queue in the journal (MQTT mode). */
  readonly ingestClientId: string;
}

const spoolName = (feed: 'spool' | 'mqtt') => (feed === 'spool' ? 'spool' : 'ingest spool');

export async function locate(keys: readonly string[], i: LocateInput): Promise<Missing[]> {
  const marks: SpoolMarks = i.tail.marks();
  const past = new Map<string, number>();
  for (const e of i.tail.pastCommitted()) for (const k of keysOf(e.topic, e.payload)) past.set(k, e.seq);
  const journal = i.feed === 'mqtt' ? await journalKeys(i.brokerDir, i.ingestClientId) : new Set<string>();
  return keys.map((key) => {
    const seqs = i.seqs.get(key) ?? [];
    const stored = seqs.filter((s) => s <= marks.stored);
    if (stored.length)
      return {
        key,
        stage: `store: ${spoolName(i.feed)} seq ${stored.join(',')} marked stored (stored through ${marks.stored}), absent from influxd`,
      };
    if (seqs.length)
      return {
        key,
        stage: `ingest: in the ${spoolName(i.feed)} at seq ${seqs.join(',')}${i.feed === 'spool' ? ' (committed)' : ''}, never stored (stored through ${marks.stored})`,
      };
    const p = past.get(key);
    if (p !== undefined)
      return {
        key,
        stage: `spool file past the committed marker: seq ${p} > committed ${marks.committed} (acknowledged, never committed)`,
      };
    if (journal.has(key)) return { key, stage: "broker journal: queued for the ingest's session, not acknowledged by it" };
    return {
      key,
      stage:
        i.feed === 'spool'
          ? 'broker: acknowledged to the publisher, never in the spool'
          : 'broker: acknowledged to the publisher, in no broker queue, spool or store',
    };
  });
}

/** Reading keys in the ingest's queue in the broker journal (read from a copy). */
async function journalKeys(brokerDir: string, clientId: string): Promise<Set<string>> {
  const out = new Set<string>();
  const dir = join(brokerDir, 'journal');
  if (!existsSync(dir)) return out;
  const tmp = mkdtempSync(join(tmpdir(), 'chaos-journal-'));
  try {
    cpSync(dir, join(tmp, 'journal'), { recursive: true });
    const j = new JournalPersistence(join(tmp, 'journal'));
    await j.setup({ id: 'chaos-locate' });
    const queued = (await j.outgoingStream({ id: clientId }).toArray()) as StoredPacket[];
    for (const p of queued) for (const k of keysOf(p.topic ?? '', p.payload)) out.add(k);
    await j.destroy();
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  return out;
}
