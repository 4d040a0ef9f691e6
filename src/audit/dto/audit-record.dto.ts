import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import type {
  SecurityActor,
  SecurityEventType,
  SecuritySource,
  Transport,
} from '../../common/security/security-event';
import { AUDIT_TYPES } from '../audit-record';
import type { PublicAuditRecord } from '../audit-query.service';

class AuditActorDto implements SecurityActor {
  @ApiPropertyOptional()
  userId?: string;

  @ApiPropertyOptional()
  agentId?: string;

  @ApiPropertyOptional({ enum: ['agent', 'auditor', 'admin', 'platform_admin'] })
  role?: string;
}

class AuditSourceDto implements SecuritySource {
  @ApiPropertyOptional({ example: '203.0.113.7' })
  ip?: string;

  @ApiPropertyOptional()
  userAgent?: string;

  @ApiPropertyOptional()
  socketId?: string;

  @ApiProperty({ enum: ['ws', 'http', 'system'] })
  transport!: Transport;
}

/** One audit record as admins read it (PROTOCOL §7). */
export class AuditRecordDto implements PublicAuditRecord {
  @ApiProperty({ description: 'UUIDv7: sorts by creation time.', format: 'uuid' })
  id!: string;

  @ApiProperty({ description: 'ISO 8601 UTC with milliseconds.', example: '2026-11-22T08:00:00.000Z' })
  occurredAt!: string;

  @ApiProperty({ enum: AUDIT_TYPES })
  type!: SecurityEventType;

  @ApiProperty({ enum: ['success', 'failure'] })
  outcome!: 'success' | 'failure';

  @ApiPropertyOptional({ description: 'snake_case; always present on failures.', example: 'invalid_token' })
  reason?: string;

  @ApiProperty({ type: () => AuditActorDto })
  actor!: AuditActorDto;

  @ApiPropertyOptional({ description: 'Absent on records only platform admins see.' })
  orgId?: string;

  @ApiProperty({ type: () => AuditSourceDto })
  source!: AuditSourceDto;

  @ApiPropertyOptional({
    description: 'The socket event, or `METHOD /route/template`.',
    example: 'GET /metrics',
  })
  target?: string;

  @ApiPropertyOptional({ type: 'object', additionalProperties: true })
  details?: Record<string, unknown>;

  @ApiProperty({ description: "The writer's hash chain." })
  chain!: string;

  @ApiProperty({ description: 'Hash of the previous record of the chain (64 zeros for the first).' })
  prevHash!: string;

  @ApiProperty({ description: 'Hex SHA-256 over the canonical record and prevHash.' })
  hash!: string;
}
