import { ApiProperty } from '@nestjs/swagger';
import type { AuditSummaryView } from '../audit-query.service';

class AuditCountDto {
  @ApiProperty({ example: 'auth.login' })
  type!: string;

  @ApiProperty({ enum: ['success', 'failure'] })
  outcome!: string;

  @ApiProperty()
  count!: number;
}

class AuditFailureSourceDto {
  @ApiProperty({ example: '203.0.113.7' })
  ip!: string;

  @ApiProperty()
  count!: number;
}

/** `GET /admin/audit/summary`. */
export class AuditSummaryDto implements AuditSummaryView {
  @ApiProperty({ description: 'Inclusive, ISO 8601.' })
  from!: string;

  @ApiProperty({ description: 'Exclusive, ISO 8601.' })
  to!: string;

  @ApiProperty({ type: () => [AuditCountDto], description: 'Records by type × outcome.' })
  counts!: AuditCountDto[];

  @ApiProperty({ type: () => [AuditFailureSourceDto], description: 'The 10 addresses with most failures.' })
  topFailureSources!: AuditFailureSourceDto[];
}
