import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import type { VerifyResult } from '../audit-verifier.service';

/** `GET /admin/audit/verify`. */
export class AuditVerifyResultDto implements VerifyResult {
  @ApiProperty({ description: 'True when every chain verifies.' })
  ok!: boolean;

  @ApiProperty({ description: 'Records checked (up to and including the first bad one).' })
  checked!: number;

  @ApiPropertyOptional({ description: 'The first record, in chain order, whose hash or link fails.' })
  firstBadId?: string;
}
