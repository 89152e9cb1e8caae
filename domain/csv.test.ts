import { describe, expect, it } from 'vitest';
import { CSV_BOM, csvRecord, isoCell, neutralise, parseCsv, parseCsvLine, toCsv } from './csv.ts';

/** Values that break naive CSV: separators, quotes, every line break, Chinese text, empties. */
const HARD = [
  'plain',
  '',
  'a,b',
  'say "hi"',
  '"',
  '""',
  'line1\nline2',
  'line1\r\nline2',
  'cr\ronly',
  ',\n"',
  '北京市朝阳区 3号楼',
  'trailing space ',
  'trailing comma,',
];

describe('writing', () => {
  it('quotes a field only when it must, doubles quotes, ends every record in CRLF', () => {
    expect(
      toCsv(
        ['a', 'b'],
        [
          ['x', 'y,z'],
          ['say "hi"', 'two\nlines'],
        ],
      ),
    ).toBe('a,b\r\nx,"y,z"\r\n"say ""hi""","two\nlines"\r\n');
    expect(csvRecord(['a', 'b\rc'])).toBe('a,"b\rc"\r\n');
  });

  it('writes numbers, booleans and empties as themselves: a negative reading is a number, not a neutralised text', () => {
    expect(csvRecord([-5.5, 0, true, null, undefined, 1e21])).toBe('-5.5,0,true,,,1e+21\r\n');
  });

  it('puts the BOM in front only when asked (Excel reads UTF-8 then; 供热所 is not mojibake)', () => {
    const withBom = toCsv(['名称'], [['一所']], { bom: true });
    expect(withBom.startsWith(CSV_BOM)).toBe(true);
    expect(Buffer.from(withBom, 'utf8').subarray(0, 3)).toEqual(Buffer.from([0xef, 0xbb, 0xbf]));
    expect(toCsv(['名称'], [['一所']]).startsWith(CSV_BOM)).toBe(false);
  });

  it('every hard value comes back as it went in', () => {
    const rows = HARD.map((v, i) => [String(i), v]);
    expect(parseCsv(toCsv(['i', 'v'], rows, { bom: true }))).toEqual([['i', 'v'], ...rows]);
  });
});

describe('the formula guard', () => {
  it.each([
    ['=1+1', "'=1+1"],
    ['+86 138', "'+86 138"],
    ['-2', "'-2"],
    ['@SUM(A1)', "'@SUM(A1)"],
    ['=HYPERLINK("http://x","y")', '"\'=HYPERLINK(""http://x"",""y"")"'],
    [' =1', "' =1"],
    ['\t=1', "'\t=1"],
    ['\r=1', '"\'\r=1"'],
    ['\n=1', '"\'\n=1"'],
    ['\u3000=1', "'\u3000=1"],
    ['＝1', "'＝1"],
    ['＋1', "'＋1"],
    ['－1', "'－1"],
    ['＠x', "'＠x"],
  ])('neutralises %j in a text cell', (input, written) => {
    expect(csvRecord([input])).toBe(`${written}\r\n`);
    // What a spreadsheet gets is text: the apostrophe first, the value intact behind it.
    expect(parseCsvLine(csvRecord([input]).slice(0, -2))).toEqual([`'${input}`]);
  });

  it('leaves ordinary text, and a sign inside the text, alone', () => {
    for (const s of ['a=b', 'x-1', 'mail@example.com', '3+4', '18 °C']) expect(neutralise(s)).toBe(s);
  });

  it('guards the header too (a column name is text from somewhere)', () => {
    expect(toCsv(['=cmd'], [])).toBe("'=cmd\r\n");
  });
});

describe('reading', () => {
  it('takes quoted commas, quotes and line breaks, CRLF / LF / CR endings, a BOM, and skips blank lines', () => {
    const text = `${CSV_BOM}id,name\r\n1,"Li, ""Xiao"" Ming"\n\n2,"two\r\nlines"\r3,last`;
    expect(parseCsv(text)).toEqual([
      ['id', 'name'],
      ['1', 'Li, "Xiao" Ming'],
      ['2', 'two\r\nlines'],
      ['3', 'last'],
    ]);
  });

  it('keeps empty fields, including a trailing one, and a last record without a line break', () => {
    expect(parseCsv('a,,c,\r\n,,\r\nx')).toEqual([['a', '', 'c', ''], ['', '', ''], ['x']]);
  });

  it('reads a line of a line-streamed file; an empty line has no fields', () => {
    expect(parseCsvLine('1733018400000,rs-1,"21,5",')).toEqual(['1733018400000', 'rs-1', '21,5', '']);
    expect(parseCsvLine('')).toEqual([]);
  });

  it('an unclosed quote runs to the end of the text instead of throwing', () => {
    expect(parseCsv('a,"b\nc')).toEqual([['a', 'b\nc']]);
  });
});

describe('isoCell', () => {
  it('writes an epoch-ms time as ISO 8601 and a value Date cannot hold as the number', () => {
    expect(isoCell(Date.UTC(2026, 11, 1, 2))).toBe('2026-12-01T02:00:00.000Z');
    expect(isoCell(1e308)).toBe('1e+308');
    expect(isoCell(undefined)).toBe('');
  });
});
