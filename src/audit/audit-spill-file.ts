import { Logger } from '@nestjs/common';
import {
  closeSync,
  existsSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  writeSync,
} from 'node:fs';
import { dirname } from 'node:path';
import type { AuditRecord } from './audit-record';

/**
 * The append-only file where records wait while the store does not answer: one JSON line per
 * record, fsync'd per batch. Writes are synchronous on purpose: they happen only when the database
 * is failing, the queue overflows, or at shutdown, and a record must be on disk before we count it
 * safe. A replay first renames the file aside, so records spilled during the replay land in a fresh
 * file and are never removed with the replayed ones.
 */
export class AuditSpillFile {
  private readonly logger = new Logger(AuditSpillFile.name);
  private readonly replayPath: string;

  constructor(readonly path: string) {
    this.replayPath = `${path}.replaying`;
  }

  get hasRecords(): boolean {
    return existsSync(this.replayPath) || existsSync(this.path);
  }

  append(records: readonly AuditRecord[]): void {
    if (records.length === 0) return;
    mkdirSync(dirname(this.path), { recursive: true });
    const fd = openSync(this.path, 'a', 0o600);
    try {
      writeSync(fd, records.map((record) => `${JSON.stringify(record)}\n`).join(''));
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  }

  /**
   * The oldest spilled records, in write order, moved aside for replay: a file left over from an
   * interrupted replay first, else the current spill file. `done()` removes them once stored.
   */
  takeForReplay(): { records: AuditRecord[]; done(): void } | null {
    if (!existsSync(this.replayPath)) {
      if (!existsSync(this.path)) return null;
      renameSync(this.path, this.replayPath);
    }
    return { records: this.parse(this.replayPath), done: () => rmSync(this.replayPath, { force: true }) };
  }

  /** A torn last line (a crash mid-write) is skipped and logged, never fatal. */
  private parse(path: string): AuditRecord[] {
    const records: AuditRecord[] = [];
    readFileSync(path, 'utf8')
      .split('\n')
      .forEach((line, index) => {
        if (line.trim() === '') return;
        try {
          records.push(JSON.parse(line) as AuditRecord);
        } catch {
          this.logger.error(`${path}: line ${index + 1} is not a record (torn write?); skipped`);
        }
      });
    return records;
  }
}
