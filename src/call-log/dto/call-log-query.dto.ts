import { ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsIn, IsInt, IsOptional, Max, Min } from 'class-validator';
import { INSTANT_DOC, IsInstant } from '../../common/instant';
import { IsProtocolId } from '../../common/validation/ids';
import type { CallEndReason } from '../../signaling/protocol';
import { CALL_END_REASONS } from '../../signaling/protocol';
import { CALL_LOG_PAGE_MAX, CallLogFilterQuery } from '../call-log-query.service';
import { IsCallLogCursor } from './call-log-query.validators';

/** `GET /admin/calls`: the filters, a page size and the cursor of the previous page. */
export class CallLogQueryDto implements CallLogFilterQuery {
  @ApiPropertyOptional({ description: 'Calls answered by this agent.', example: 'agent_ann' })
  @IsOptional()
  @IsProtocolId()
  agentId?: string;

  @ApiPropertyOptional({
    description: 'Only this organisation. Platform admins only: any other role gets 403 FORBIDDEN.',
    example: 'org_acme',
  })
  @IsOptional()
  @IsProtocolId()
  orgId?: string;

  @ApiPropertyOptional({ description: 'Ended calls with this reason.', enum: CALL_END_REASONS })
  @IsOptional()
  @IsIn(CALL_END_REASONS)
  endReason?: CallEndReason;

  @ApiPropertyOptional({ description: `Inclusive lower bound on startedAt: ${INSTANT_DOC}.` })
  @IsOptional()
  @IsInstant()
  from?: string;

  @ApiPropertyOptional({ description: `Exclusive upper bound on startedAt: ${INSTANT_DOC}.` })
  @IsOptional()
  @IsInstant()
  to?: string;

  @ApiPropertyOptional({ minimum: 1, maximum: CALL_LOG_PAGE_MAX, default: 100 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(CALL_LOG_PAGE_MAX)
  limit: number = 100;

  @ApiPropertyOptional({ description: 'The `nextCursor` of the previous page (opaque).' })
  @IsOptional()
  @IsCallLogCursor()
  cursor?: string;
}
