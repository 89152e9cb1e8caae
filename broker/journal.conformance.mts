/**
 * aedes-persistence's own conformance suite (abstract.js, run by node:test) against
 * JournalPersistence: every behaviour aedes relies on, checked by the suite the persistence
 * authors use. Run by broker/journal.persistence.test.ts: `node --import tsx --test` this file.
 */
import { mkdtempSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { JournalPersistence } from './journal.persistence.ts';

const require = createRequire(import.meta.url);
const abstract = require('aedes-persistence/abstract.js') as (o: object) => void;

abstract({
  test,
  persistence: () => new JournalPersistence(mkdtempSync(join(tmpdir(), 'journal-conf-'))),
  testAsync: true,
});
