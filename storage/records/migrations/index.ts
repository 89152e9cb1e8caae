/** The migration set of each SQLite file, in order; a new migration is a new file appended here. */
import type { MigrationSet } from './migrate.ts';
import { initial as recordsInitial } from './records/0001_initial.ts';
import { initial as readingsInitial } from './readings/0001_initial.ts';
import { hourlyRollup } from './readings/0002_hourly_rollup.ts';
import { forecasts } from './readings/0003_forecasts.ts';

/** records.db: registry, people, orders, incidents, outages, audit, advice, dead letters (one file, several processes). */
export const RECORDS_DB: MigrationSet = { file: 'records.db', migrations: [recordsInitial] };

/** readings.db: the embedded reading store and the forecasts beside it. */
export const READINGS_DB: MigrationSet = { file: 'readings.db', migrations: [readingsInitial, hourlyRollup, forecasts] };
