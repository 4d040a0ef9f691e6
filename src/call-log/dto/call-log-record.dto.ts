import { ApiProperty } from '@nestjs/swagger';
import type { CallEndReason } from '../../signaling/protocol';
import { CALL_END_REASONS } from '../../signaling/protocol';
import type { CallLogRecord } from '../call-log-record';

/** One call of `GET /admin/calls`. Times are epoch milliseconds; the end fields are null while it runs. */
export class CallLogRecordDto implements CallLogRecord {
  @ApiProperty({
    description: "UUIDv7; the call's `call:started.call.callLogId`.",
    format: 'uuid',
  })
  callLogId!: string;

  @ApiProperty({ example: 'call_0193a5b0-7c1e-7000-8000-000000000001' })
  callId!: string;

  @ApiProperty({ example: 'org_acme' })
  orgId!: string;

  @ApiProperty({ description: 'The agent who answered.', example: 'agent_ann' })
  agentId!: string;

  @ApiProperty()
  visitorId!: string;

  @ApiProperty({
    description: 'The page the visitor called from.',
    example: 'https://www.acme.example/pricing',
  })
  pageUrl!: string;

  @ApiProperty({ description: 'When the visitor asked (epoch ms).', example: 1_764_489_600_000 })
  requestedAt!: number;

  @ApiProperty({ description: 'When the agent accepted (epoch ms).', example: 1_764_489_605_000 })
  startedAt!: number;

  @ApiProperty({ type: Number, nullable: true, description: 'Epoch ms; null while the call runs.' })
  endedAt!: number | null;

  @ApiProperty({ enum: CALL_END_REASONS, nullable: true, description: 'Null while the call runs.' })
  endReason!: CallEndReason | null;

  @ApiProperty({
    type: Number,
    nullable: true,
    description: 'Whole seconds from startedAt to endedAt; null while the call runs.',
  })
  durationSeconds!: number | null;
}
