import { ApiProperty } from '@nestjs/swagger';
import type { CallLogPage } from '../call-log-query.service';
import { CallLogRecordDto } from './call-log-record.dto';

/** A page of `GET /admin/calls`, newest first. */
export class CallLogPageDto implements CallLogPage {
  @ApiProperty({ type: () => [CallLogRecordDto] })
  items!: CallLogRecordDto[];

  @ApiProperty({
    type: String,
    nullable: true,
    description: 'Pass as `cursor` for the next (older) page; null on the last page.',
  })
  nextCursor!: string | null;
}
