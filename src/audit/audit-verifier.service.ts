import { Injectable } from '@nestjs/common';
import { hashRecord } from './audit-hash';
import { GENESIS_HASH } from './audit-record';
import { AuditStore } from './audit.store';

export interface VerifyResult {
  ok: boolean;
  checked: number;
  firstBadId?: string;
}

const SLICE = 1_000;

/**
 * Walks every chain in order (`GET /admin/audit/verify`): each record's hash must match its content
 * and its `prevHash` the hash of the record before it, starting from the genesis hash or, after
 * retention, from the anchor the purge left. A changed, deleted or reordered record breaks one of
 * those; `firstBadId` is the first record, in chain order, where that shows.
 */
@Injectable()
export class AuditVerifier {
  constructor(private readonly store: AuditStore) {}

  async verify(): Promise<VerifyResult> {
    let checked = 0;
    for (const chain of await this.store.chains()) {
      const anchor = await this.store.anchor(chain);
      let expectedSeq = anchor?.seq ?? 0;
      let expectedPrev = anchor?.prevHash ?? GENESIS_HASH;
      for (let slice = await this.store.chainSlice(chain, -1, SLICE); slice.length > 0;) {
        for (const record of slice) {
          checked += 1;
          if (
            record.seq !== expectedSeq ||
            record.prevHash !== expectedPrev ||
            hashRecord(record) !== record.hash
          ) {
            return { ok: false, checked, firstBadId: record.id };
          }
          expectedSeq += 1;
          expectedPrev = record.hash;
        }
        slice = await this.store.chainSlice(chain, slice[slice.length - 1].seq, SLICE);
      }
    }
    return { ok: true, checked };
  }
}
