import { ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { ArrayMaxSize, IsIn, IsIP, IsNotEmpty, IsOptional, IsString, MaxLength } from 'class-validator';
import { INSTANT_DOC, IsInstant } from '../../common/instant';
import type { SecurityEventType } from '../../common/security/security-event';
import { IsProtocolId } from '../../common/validation/ids';
import { AUDIT_TYPES } from '../audit-record';
import type { AuditFilterQuery } from '../audit-query.service';
import { toList } from './audit-query.validators';

/** The filters shared by list, export (and, picked, summary) of `GET /admin/audit/*` (PROTOCOL §7). */
export class AuditFilterQueryDto implements AuditFilterQuery {
  @ApiPropertyOptional({
    description: 'One record type, or several separated by commas.',
    type: String,
    example: 'auth.login,auth.forbidden',
  })
  @IsOptional()
  @Transform(({ value }) => toList(value))
  @ArrayMaxSize(AUDIT_TYPES.length)
  @IsIn(AUDIT_TYPES, {
    each: true,
    message: `type must be one or a comma-separated list of: ${AUDIT_TYPES.join(', ')}`,
  })
  type?: SecurityEventType[];

  @ApiPropertyOptional({ enum: ['success', 'failure'] })
  @IsOptional()
  @IsIn(['success', 'failure'])
  outcome?: 'success' | 'failure';

  @ApiPropertyOptional({ description: 'The acting agent.', example: 'agent_ann' })
  @IsOptional()
  @IsProtocolId()
  agentId?: string;

  @ApiPropertyOptional({ description: 'The acting user (the JWT `sub`).' })
  @IsOptional()
  @IsString()
  @IsNotEmpty()
  @MaxLength(256)
  userId?: string;

  @ApiPropertyOptional({ description: 'The source address (IPv4 or IPv6).', example: '203.0.113.7' })
  @IsOptional()
  @IsIP()
  ip?: string;

  @ApiPropertyOptional({
    description: 'Only this organisation. Platform admins only: any other role gets 403 FORBIDDEN.',
    example: 'org_acme',
  })
  @IsOptional()
  @IsProtocolId()
  orgId?: string;

  @ApiPropertyOptional({ description: `Inclusive lower bound on occurredAt: ${INSTANT_DOC}.` })
  @IsOptional()
  @IsInstant()
  from?: string;

  @ApiPropertyOptional({ description: `Exclusive upper bound on occurredAt: ${INSTANT_DOC}.` })
  @IsOptional()
  @IsInstant()
  to?: string;
}
