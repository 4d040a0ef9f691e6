import { PickType } from '@nestjs/swagger';
import { AuditFilterQueryDto } from './audit-filter-query.dto';

/** `GET /admin/audit/summary`: a time range (default: the last 24 h) and, for platform admins, an organisation. */
export class AuditSummaryQueryDto extends PickType(AuditFilterQueryDto, ['from', 'to', 'orgId'] as const) {}
