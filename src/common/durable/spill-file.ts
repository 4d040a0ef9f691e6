import type { Logger } from '@nestjs/common';
import {
  closeSync,
  existsSync,
  fstatSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readFileSync,
  readSync,
  renameSync,
  rmSync,
  writeSync,
} from 'node:fs';
import { dirname } from 'node:path';

/** What `takeForReplay` hands out: the oldest spilled records, and how to drop them once stored. */
export interface SpilledRecords<T> {
  records: T[];
  done(): void;
}

/**
 * The append-only file where records wait while their store does not answer: one JSON line per
 * record, fsync'd per batch. Writes are synchronous on purpose: they happen only when the database
 * is failing, the queue overflows, or at shutdown, and a record must be on disk before we count it
 * safe. A replay first renames the file aside, so records spilled during the replay land in a fresh
 * file and are never removed with the replayed ones.
 */
export class SpillFile<T> {
  private readonly replayPath: string;

  constructor(
    readonly path: string,
    private readonly logger: Logger,
  ) {
    this.replayPath = `${path}.replaying`;
  }

  get hasRecords(): boolean {
    return existsSync(this.replayPath) || existsSync(this.path);
  }

  append(records: readonly T[]): void {
    if (records.length === 0) return;
    mkdirSync(dirname(this.path), { recursive: true });
    const fd = openSync(this.path, 'a+', 0o600);
    try {
      const lines = records.map((record) => `${JSON.stringify(record)}\n`).join('');
      // A crash mid-write leaves a torn last line; starting on a fresh line keeps that damage to the
      // torn record instead of fusing it with the first record written now.
      writeSync(fd, endsTorn(fd) ? `\n${lines}` : lines);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  }

  /**
   * The oldest spilled records, in write order, moved aside for replay: a file left over from an
   * interrupted replay first, else the current spill file. `done()` removes them once stored.
   */
  takeForReplay(): SpilledRecords<T> | null {
    if (!existsSync(this.replayPath)) {
      if (!existsSync(this.path)) return null;
      renameSync(this.path, this.replayPath);
    }
    return { records: this.parse(this.replayPath), done: () => rmSync(this.replayPath, { force: true }) };
  }

  /** A torn line (a crash mid-write) is skipped and logged, never fatal. */
  private parse(path: string): T[] {
    const records: T[] = [];
    readFileSync(path, 'utf8')
      .split('\n')
      .forEach((line, index) => {
        if (line.trim() === '') return;
        try {
          records.push(JSON.parse(line) as T);
        } catch {
          this.logger.error(`${path}: line ${index + 1} is not a record (torn write?); skipped`);
        }
      });
    return records;
  }
}

/** True when the open file is not empty and its last byte is not a newline. */
function endsTorn(fd: number): boolean {
  const { size } = fstatSync(fd);
  if (size === 0) return false;
  const last = Buffer.alloc(1);
  readSync(fd, last, 0, 1, size - 1);
  return last[0] !== 0x0a;
}
