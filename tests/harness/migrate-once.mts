// Opens `${argv[2]}/records.db` as every service does and prints, as JSON, the migrations this
// process applied (tests/records.migrations.test.ts runs several at once on one fresh file).
import { RECORDS_DB } from '../../storage/records/migrations/index.ts';
import { openSqliteFile } from '../../storage/records/sqlite.file.ts';

let applied: readonly string[] = [];
openSqliteFile(process.argv[2]!, RECORDS_DB, { onMigrated: (r) => (applied = r.applied) }).close();
console.log(JSON.stringify(applied));
