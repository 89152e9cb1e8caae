/** The spool lives in storage/spool/ (the broker writes it in spool mode); the ingest's imports stay. */
export { SpoolRepository, type SpoolEntry, type SpoolSync } from '../storage/spool/spool.repository.ts';
