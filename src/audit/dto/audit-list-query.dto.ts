import { ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsInt, IsOptional, Max, Min } from 'class-validator';
import { AUDIT_PAGE_MAX } from '../audit-query.service';
import { AuditFilterQueryDto } from './audit-filter-query.dto';
import { IsAuditCursor } from './audit-query.validators';

/** `GET /admin/audit/events`: the filters, a page size and the cursor of the previous page. */
export class AuditListQueryDto extends AuditFilterQueryDto {
  @ApiPropertyOptional({ minimum: 1, maximum: AUDIT_PAGE_MAX, default: 100 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(AUDIT_PAGE_MAX)
  limit: number = 100;

  @ApiPropertyOptional({ description: 'The `nextCursor` of the previous page (opaque).' })
  @IsOptional()
  @IsAuditCursor()
  cursor?: string;
}
