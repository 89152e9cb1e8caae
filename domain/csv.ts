/**
 * The platform's one CSV module (RFC 4180), for every reader and writer: registry and
 * onboarding imports, the orders export, the dashboard's KPI download, replay recordings.
 * Pure, so the API, the simulators and the dashboard share it.
 *
 * Writing: a field is quoted when it holds a quote, comma, CR or LF (quotes doubled); records
 * end in CRLF; text cells that a spreadsheet would run as a formula are neutralised; numbers
 * are written as numbers (a negative reading stays a number). `CSV_BOM` in front makes Excel
 * read the file as UTF-8 (Chinese names, 供热所) instead of the system code page.
 * Reading: quoted fields may hold commas, quotes and line breaks; CRLF, LF or CR end a record;
 * a leading BOM is dropped; blank lines are skipped.
 */

/** UTF-8 byte order mark: Excel on Windows reads a CSV without it in the local code page (GBK). */
export const CSV_BOM = '\uFEFF';

/**
 * Spreadsheet formula injection: Excel, LibreOffice and WPS run a cell that starts with
 * = + - @ as a formula, and also look past a leading TAB, CR, LF or space, and treat the
 * fullwidth forms (＝ ＋ － ＠, common in Chinese input methods) the same. Such text cells get
 * a leading apostrophe, which spreadsheets show as text and do not display.
 */
const FORMULA_START = /^[\s\u3000]*[=+\-@\uFF1D\uFF0B\uFF0D\uFF20]|^[\t\r\n ]/;

export function neutralise(s: string): string {
  return FORMULA_START.test(s) ? `'${s}` : s;
}

/** A cell's text: empty for null/undefined, text neutralised, anything else as JSON (numbers, booleans). */
function cell(v: unknown): string {
  if (v === undefined || v === null) return '';
  const s = typeof v === 'string' ? neutralise(v) : (JSON.stringify(v) ?? '');
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** One record with its CRLF, for writers that stream (a season of readings). */
export function csvRecord(cells: readonly unknown[]): string {
  return cells.map(cell).join(',') + '\r\n';
}

/** A whole file: header, rows; `bom` for a file meant for Excel. */
export function toCsv(header: readonly string[], rows: readonly (readonly unknown[])[], opts: { bom?: boolean } = {}): string {
  return (opts.bom ? CSV_BOM : '') + csvRecord(header) + rows.map(csvRecord).join('');
}

/**
 * An epoch-ms time as ISO 8601, never throwing: a value outside what Date can hold (a row
 * stored before timestamps were bounded, issue 13 finding 8) comes out as the raw number
 * rather than failing the whole export.
 */
export function isoCell(t: number | undefined | null): string {
  if (t === undefined || t === null) return '';
  const d = new Date(t);
  return Number.isFinite(d.getTime()) ? d.toISOString() : String(t);
}

/** Every record of a CSV text, as strings (no type guessing: the importer's schema decides). */
export function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  const s = text.startsWith(CSV_BOM) ? text.slice(1) : text;
  const endRecord = () => {
    row.push(field);
    field = '';
    if (row.length > 1 || row[0] !== '') rows.push(row);
    row = [];
  };
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (quoted) {
      if (c !== '"') field += c;
      else if (s[i + 1] === '"') {
        field += '"';
        i++;
      } else quoted = false;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      row.push(field);
      field = '';
    } else if (c === '\n' || c === '\r') {
      if (c === '\r' && s[i + 1] === '\n') i++;
      endRecord();
    } else field += c;
  }
  if (field !== '' || row.length) endRecord();
  return rows;
}

/** The fields of one line (a line-streamed file whose fields hold no line breaks, e.g. a replay recording). */
export function parseCsvLine(line: string): string[] {
  return parseCsv(line)[0] ?? [];
}
