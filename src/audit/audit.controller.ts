import { Controller, Get, Param, Query, Req, Res } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiProduces,
  ApiTags,
} from '@nestjs/swagger';
import type { Request, Response } from 'express';
import type { AdminReader } from '../auth/admin-reader';
import type { HttpIdentity } from '../auth/agent-auth.service';
import { AdminAuth, CurrentUser } from '../auth/decorators/admin-auth.decorator';
import { Clock } from '../common/clock.service';
import { httpSource, routeTarget } from '../common/http-source';
import { encodeExport, EXPORT_CONTENT_TYPES, exportFilename, writeWithBackpressure } from './audit-export';
import { AuditPage, AuditQueryService, AuditSummaryView, PublicAuditRecord } from './audit-query.service';
import type { VerifyResult } from './audit-verifier.service';
import { AuditExportQueryDto } from './dto/audit-export-query.dto';
import { AuditListQueryDto } from './dto/audit-list-query.dto';
import { AuditPageDto } from './dto/audit-page.dto';
import { AuditRecordParamsDto } from './dto/audit-record-params.dto';
import { AuditRecordDto } from './dto/audit-record.dto';
import { AuditSummaryQueryDto } from './dto/audit-summary-query.dto';
import { AuditSummaryDto } from './dto/audit-summary.dto';
import { AuditVerifyResultDto } from './dto/audit-verify-result.dto';

const BAD_QUERY = 'A malformed or unknown query parameter, named in `details` (`INVALID_PAYLOAD`).';

/**
 * The audit endpoints of PROTOCOL §4. Visibility and the record of each read live in
 * AuditQueryService; this translates requests and streams exports.
 */
@ApiTags('audit')
@Controller('admin/audit')
export class AuditController {
  constructor(
    private readonly audit: AuditQueryService,
    private readonly clock: Clock,
  ) {}

  @AdminAuth('auditor')
  @Get('events')
  @ApiOperation({
    summary: 'List audit records, newest first',
    description:
      'Keyset-paged: pass `nextCursor` as `cursor` for the next page; records added meanwhile never ' +
      'shift later pages. Auditors and admins see their own organisation only.',
  })
  @ApiOkResponse({ type: AuditPageDto })
  @ApiBadRequestResponse({ description: BAD_QUERY })
  list(
    @CurrentUser() user: HttpIdentity,
    @Query() query: AuditListQueryDto,
    @Req() req: Request,
  ): Promise<AuditPage> {
    return this.audit.list(reader(user, req), query, query.limit, query.cursor);
  }

  @AdminAuth('auditor')
  @Get('events/:id')
  @ApiOperation({
    summary: 'One audit record',
    description: 'A record outside your organisation is 404, exactly like an unknown id.',
  })
  @ApiOkResponse({ type: AuditRecordDto })
  @ApiBadRequestResponse({ description: 'The id is not a UUID (`INVALID_PAYLOAD`).' })
  @ApiNotFoundResponse({ description: 'Unknown, or outside your organisation (`NOT_FOUND`).' })
  get(
    @CurrentUser() user: HttpIdentity,
    @Param() params: AuditRecordParamsDto,
    @Req() req: Request,
  ): Promise<PublicAuditRecord> {
    return this.audit.get(reader(user, req), params.id);
  }

  @AdminAuth('auditor')
  @Get('summary')
  @ApiOperation({
    summary: 'Counts by type × outcome and the top failing source addresses',
    description: '`from` inclusive, `to` exclusive; default the last 24 hours.',
  })
  @ApiOkResponse({ type: AuditSummaryDto })
  @ApiBadRequestResponse({ description: BAD_QUERY })
  summary(
    @CurrentUser() user: HttpIdentity,
    @Query() query: AuditSummaryQueryDto,
    @Req() req: Request,
  ): Promise<AuditSummaryView> {
    return this.audit.summary(reader(user, req), query);
  }

  @AdminAuth('auditor')
  @Get('export')
  @ApiOperation({
    summary: 'Export audit records as NDJSON (default) or CSV, streamed',
    description:
      'Same filters as the list, newest first, without paging. CSV columns: ' +
      'id, occurredAt, type, outcome, reason, orgId, userId, agentId, role, ip, userAgent, socketId, ' +
      "transport, target, details (JSON); cells that a spreadsheet would evaluate start with '.",
  })
  @ApiProduces(EXPORT_CONTENT_TYPES.ndjson, EXPORT_CONTENT_TYPES.csv)
  @ApiOkResponse({
    description: 'One JSON record per line, or RFC 4180 CSV with a header row.',
    content: {
      'application/x-ndjson': { schema: { type: 'string' } },
      'text/csv': { schema: { type: 'string' } },
    },
  })
  @ApiBadRequestResponse({ description: BAD_QUERY })
  async exportRecords(
    @CurrentUser() user: HttpIdentity,
    @Query() query: AuditExportQueryDto,
    @Req() req: Request,
    @Res() res: Response,
  ): Promise<void> {
    const { format } = query;
    // Refusals (orgId for a non-platform reader) throw here, before anything is written.
    const pages = this.audit.exportRecords(reader(user, req), query, format);
    res.status(200);
    res.setHeader('Content-Type', EXPORT_CONTENT_TYPES[format]);
    res.setHeader(
      'Content-Disposition',
      `attachment; filename="${exportFilename(format, this.clock.now())}"`,
    );
    res.setHeader('Cache-Control', 'no-store');
    try {
      await writeWithBackpressure(res, encodeExport(pages, format));
    } catch (error) {
      if (res.headersSent) {
        // Half an export must not look like a whole one: cut the connection, no final chunk.
        res.destroy();
      } else {
        res.removeHeader('Content-Disposition');
      }
      throw error;
    }
  }

  @AdminAuth('platform_admin')
  @Get('verify')
  @ApiOperation({
    summary: 'Verify every hash chain of the audit trail',
    description: '`firstBadId` is the first record, in chain order, whose hash or link fails.',
  })
  @ApiOkResponse({ type: AuditVerifyResultDto })
  verify(@CurrentUser() user: HttpIdentity, @Req() req: Request): Promise<VerifyResult> {
    return this.audit.verify(reader(user, req));
  }
}

function reader(user: HttpIdentity, req: Request): AdminReader {
  return { user, source: httpSource(req), target: routeTarget(req) };
}
