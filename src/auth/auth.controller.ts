import { Controller, HttpCode, Post, Req } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Request } from 'express';
import { httpSource, routeTarget } from '../common/http-source';
import { ApiErrorResponse } from '../common/openapi/openapi';
import { SecurityEventBus } from '../common/security/security-event-bus.service';
import { HttpIdentity } from './agent-auth.service';
import { AdminAuth, CurrentUser } from './decorators/admin-auth.decorator';
import { WsTicketResponseDto } from './dto/ws-ticket-response.dto';
import { TicketService } from './tickets/ticket.service';

@ApiTags('auth')
@Controller('auth')
export class AuthController {
  constructor(
    private readonly tickets: TicketService,
    private readonly bus: SecurityEventBus,
  ) {}

  /**
   * Exchanges a valid Bearer JWT for a 60-second single-use ticket, so the long-lived token never
   * travels in a Socket.IO query string. Any directory user may ask (hence the lowest role).
   */
  @AdminAuth('agent')
  @Post('ws-ticket')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Exchange a Bearer token for a Socket.IO ticket',
    description: 'A 60-second, single-use ticket, so the long-lived token never travels in a URL.',
  })
  @ApiOkResponse({ type: WsTicketResponseDto })
  @ApiErrorResponse(429, 'Too many requests from this address (`RATE_LIMITED`).')
  async wsTicket(
    @CurrentUser() user: HttpIdentity,
    @Req() req: Request,
  ): Promise<{ ticket: string; expiresIn: number }> {
    const { ticket, expiresIn, jti } = await this.tickets.issue(user.claims);
    this.bus.publish({
      type: 'auth.ticket_issued',
      outcome: 'success',
      method: user.method,
      actor: { userId: user.userId, agentId: user.agentId ?? undefined, role: user.role },
      orgId: user.orgId ?? undefined,
      source: httpSource(req),
      target: routeTarget(req),
      details: { ticketId: jti, expiresIn },
    });
    return { ticket, expiresIn };
  }
}
