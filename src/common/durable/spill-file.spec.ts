import { Logger } from '@nestjs/common';
import { appendFileSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SpillFile } from './spill-file';

interface Row {
  n: number;
}

describe('SpillFile', () => {
  let dir: string;
  let path: string;
  let errors: string[];
  let file: SpillFile<Row>;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'spill-file-'));
    path = join(dir, 'nested', 'spill.ndjson');
    errors = [];
    const logger = new Logger('SpillFileSpec');
    jest.spyOn(logger, 'error').mockImplementation((message: unknown) => void errors.push(String(message)));
    file = new SpillFile<Row>(path, logger);
  });
  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
    jest.restoreAllMocks();
  });

  const rows = (from: number, count: number): Row[] =>
    Array.from({ length: count }, (_, i) => ({ n: from + i }));

  it('appends one JSON line per record (creating the directory) and hands them back in write order', () => {
    expect(file.hasRecords).toBe(false);
    expect(file.takeForReplay()).toBeNull();
    file.append(rows(0, 3));
    file.append([]);
    file.append(rows(3, 2));
    expect(readFileSync(path, 'utf8')).toBe(
      rows(0, 5)
        .map((row) => `${JSON.stringify(row)}\n`)
        .join(''),
    );
    const taken = file.takeForReplay()!;
    expect(taken.records).toEqual(rows(0, 5));
    expect(file.hasRecords).toBe(true);
    taken.done();
    expect(file.hasRecords).toBe(false);
  });

  it('keeps records spilled during a replay apart: done() removes only the replayed ones', () => {
    file.append(rows(0, 2));
    const first = file.takeForReplay()!;
    file.append(rows(2, 2));
    // Not done yet (the store failed): the set-aside file comes back first, alone.
    expect(file.takeForReplay()!.records).toEqual(rows(0, 2));
    first.done();
    const second = file.takeForReplay()!;
    expect(second.records).toEqual(rows(2, 2));
    second.done();
    expect(file.takeForReplay()).toBeNull();
  });

  it('skips a torn last line (a crash mid-write) and keeps every record before it', () => {
    file.append(rows(0, 3));
    appendFileSync(path, '{"n":3,"tor');
    const taken = file.takeForReplay()!;
    expect(taken.records).toEqual(rows(0, 3));
    expect(errors).toEqual([expect.stringContaining('line 4 is not a record')]);
  });

  it('starts on a fresh line after a torn tail, so the next record is not fused with it', () => {
    file.append(rows(0, 1));
    appendFileSync(path, '{"n":1,"tor');
    file.append(rows(2, 2));
    expect(file.takeForReplay()!.records).toEqual([{ n: 0 }, { n: 2 }, { n: 3 }]);
    expect(errors).toHaveLength(1);
    expect(existsSync(`${path}.replaying`)).toBe(true);
  });
});
