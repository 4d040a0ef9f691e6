import { ApiProperty } from '@nestjs/swagger';
import { IsUUID } from 'class-validator';

/** `GET /admin/audit/events/:id`. */
export class AuditRecordParamsDto {
  @ApiProperty({ description: 'The record id (a UUIDv7).', format: 'uuid' })
  @IsUUID('all')
  id!: string;
}
