import { Controller, Get, Query, Req } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Request } from 'express';
import type { HttpIdentity } from '../auth/agent-auth.service';
import { AdminAuth, CurrentUser } from '../auth/decorators/admin-auth.decorator';
import { httpSource, routeTarget } from '../common/http-source';
import { ApiErrorResponse } from '../common/openapi/openapi';
import { CallLogPage, CallLogQueryService } from './call-log-query.service';
import { CallLogPageDto } from './dto/call-log-page.dto';
import { CallLogQueryDto } from './dto/call-log-query.dto';

/** `GET /admin/calls` (PROTOCOL §4). Visibility and the record of each read live in CallLogQueryService. */
@ApiTags('calls')
@Controller('admin/calls')
export class CallLogController {
  constructor(private readonly calls: CallLogQueryService) {}

  @AdminAuth('auditor')
  @Get()
  @ApiOperation({
    summary: 'List calls, newest first',
    description:
      'One row per call, written when it starts and completed when it ends. Ordered by `startedAt`, ' +
      'then `callLogId`; keyset-paged: pass `nextCursor` as `cursor` for the next page, and calls ' +
      'added meanwhile never shift later pages. Auditors and admins see their own organisation only; ' +
      'platform admins see every organisation and may filter by `orgId` (anyone else sending it gets ' +
      '403 `FORBIDDEN`).',
  })
  @ApiOkResponse({ type: CallLogPageDto })
  @ApiErrorResponse(400, 'A malformed or unknown query parameter, named in `details` (`INVALID_PAYLOAD`).')
  list(
    @CurrentUser() user: HttpIdentity,
    @Query() query: CallLogQueryDto,
    @Req() req: Request,
  ): Promise<CallLogPage> {
    return this.calls.list(
      { user, source: httpSource(req), target: routeTarget(req) },
      query,
      query.limit,
      query.cursor,
    );
  }
}
