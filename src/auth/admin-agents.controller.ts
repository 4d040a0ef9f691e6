import { Controller, HttpCode, Param, Post, Req } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiProperty,
  ApiTags,
} from '@nestjs/swagger';
import type { Request } from 'express';
import { httpSource, routeTarget } from '../common/http-source';
import { ID_PATTERN, IsProtocolId } from '../common/validation/ids';
import type { HttpIdentity } from './agent-auth.service';
import { AdminAuth, CurrentUser } from './decorators/admin-auth.decorator';
import { type RevocationResult, SessionRevocationService } from './session-revocation.service';

/** Path parameters of the agent routes, validated by the global ValidationPipe (400 names the field). */
class AgentIdParams {
  @ApiProperty({
    description: 'The agent, as in the directory (1–128 characters of [A-Za-z0-9._:-])',
    pattern: ID_PATTERN.source,
    minLength: 1,
    maxLength: 128,
    example: 'agent_ann',
  })
  @IsProtocolId()
  agentId!: string;
}

/** Admin actions on agents (PROTOCOL §4). Policy lives in the services; this only translates HTTP. */
@ApiTags('admin')
@Controller('admin/agents')
export class AdminAgentsController {
  constructor(private readonly revocations: SessionRevocationService) {}

  @AdminAuth('admin')
  @Post(':agentId/revoke')
  @HttpCode(200)
  @ApiOperation({
    summary: "Revoke an agent's sessions",
    description:
      'Refuses, from now on, every token of the agent issued at or before this second (at login, at ' +
      'the Socket.IO handshake, on agent events and over HTTP), and tells each of its connected ' +
      'sockets `session:revoked` before disconnecting it. Admins reach agents of their own ' +
      'organisation only; platform admins any. Recorded as `auth.session_revoked`.',
  })
  @ApiOkResponse({
    description: 'The revocation is stored and the live sessions are disconnected.',
    schema: {
      type: 'object',
      required: ['revokedAt', 'disconnected'],
      properties: {
        revokedAt: { type: 'string', format: 'date-time', example: '2026-11-22T08:00:00.000Z' },
        disconnected: { type: 'integer', minimum: 0, example: 2 },
      },
    },
  })
  @ApiBadRequestResponse({ description: 'The agentId is not a valid id (INVALID_PAYLOAD).' })
  @ApiNotFoundResponse({
    description: 'No such agent, or an agent of another organisation (NOT_FOUND; nothing is revealed).',
  })
  revoke(
    @CurrentUser() admin: HttpIdentity,
    @Param() params: AgentIdParams,
    @Req() req: Request,
  ): Promise<RevocationResult> {
    return this.revocations.revoke(admin, params.agentId, {
      source: httpSource(req),
      target: routeTarget(req),
    });
  }
}
