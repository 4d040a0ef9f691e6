import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsOptional } from 'class-validator';
import { EXPORT_FORMATS, ExportFormat } from '../audit-export';
import { AuditFilterQueryDto } from './audit-filter-query.dto';

/** `GET /admin/audit/export`: the list filters (no paging: the whole result is streamed) and a format. */
export class AuditExportQueryDto extends AuditFilterQueryDto {
  @ApiPropertyOptional({ enum: EXPORT_FORMATS, default: 'ndjson' })
  @IsOptional()
  @IsIn(EXPORT_FORMATS)
  format: ExportFormat = 'ndjson';
}
