import { ApiProperty } from '@nestjs/swagger';
import type { AuditPage } from '../audit-query.service';
import { AuditRecordDto } from './audit-record.dto';

/** A page of `GET /admin/audit/events`, newest first. */
export class AuditPageDto implements AuditPage {
  @ApiProperty({ type: () => [AuditRecordDto] })
  items!: AuditRecordDto[];

  @ApiProperty({
    type: String,
    nullable: true,
    description: 'Pass as `cursor` for the next (older) page; null on the last page.',
  })
  nextCursor!: string | null;
}
