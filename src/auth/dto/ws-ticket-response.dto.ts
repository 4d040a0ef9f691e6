import { ApiProperty } from '@nestjs/swagger';
import { TICKET_TTL_SECONDS } from '../tickets/ticket.service';

/** `POST /auth/ws-ticket` (PROTOCOL §4): a single-use ticket for the Socket.IO handshake. */
export class WsTicketResponseDto {
  @ApiProperty({
    description:
      'A single-use credential accepted wherever a token is (the Socket.IO handshake `auth.token` or ' +
      '`?token=`, `agent:login`), so the long-lived token stays out of URLs. Refused once used or expired.',
  })
  ticket!: string;

  @ApiProperty({ description: 'Seconds until the ticket expires.', example: TICKET_TTL_SECONDS })
  expiresIn!: number;
}
