import { JwtService } from '@nestjs/jwt';
import { validateEnvironment } from '../../config/app-config';
import { InMemoryRedeemedTickets } from './redeemed-tickets';
import { TicketService } from './ticket.service';

describe('TicketService', () => {
  const config = validateEnvironment({ TICKET_SECRET: 't'.repeat(40), AUTH_JWT_SECRET: 's'.repeat(40) });
  const claims = { sub: 'user-1', exp: Math.floor(Date.now() / 1000) + 3600, iat: 1_700_000_000, raw: {} };
  let tickets: TicketService;

  beforeEach(() => {
    tickets = new TicketService(new JwtService({}), config, new InMemoryRedeemedTickets());
  });

  it('issues a ticket that redeems once, carrying the exchanged token’s expiry and issue time', async () => {
    const { ticket, expiresIn } = await tickets.issue(claims);
    expect(expiresIn).toBe(60);
    expect(tickets.looksLikeTicket(ticket)).toBe(true);
    const first = await tickets.redeem(ticket);
    expect(first).toEqual({
      ok: true,
      source: 'ticket',
      claims: expect.objectContaining({ sub: 'user-1', exp: claims.exp, iat: claims.iat }),
    });
    expect(await tickets.redeem(ticket)).toEqual({
      ok: false,
      code: 'AUTH_INVALID_TOKEN',
      reason: 'ticket_reused',
    });
  });

  it('refuses a ticket after its 60 seconds', async () => {
    const { ticket } = await tickets.issue(claims);
    const later = Date.now() + 61_000;
    expect(await tickets.redeem(ticket, later)).toEqual({
      ok: false,
      code: 'AUTH_INVALID_TOKEN',
      reason: 'ticket_expired',
    });
  });

  it('refuses a ticket signed with another secret', async () => {
    const other = new TicketService(
      new JwtService({}),
      validateEnvironment({ TICKET_SECRET: 'o'.repeat(40) }),
      new InMemoryRedeemedTickets(),
    );
    const { ticket } = await other.issue(claims);
    expect(await tickets.redeem(ticket)).toEqual({
      ok: false,
      code: 'AUTH_INVALID_TOKEN',
      reason: 'invalid_ticket',
    });
  });

  it('does not mistake an ordinary token for a ticket', async () => {
    const token = await new JwtService({}).signAsync({ sub: 'u' }, { secret: 's'.repeat(40) });
    expect(tickets.looksLikeTicket(token)).toBe(false);
    expect(tickets.looksLikeTicket('not-a-jwt')).toBe(false);
  });

  it('forgets a redeemed id once its ticket is past its time and the clock tolerance', async () => {
    const redeemed = new InMemoryRedeemedTickets();
    const nowMs = 1_700_000_000_000;
    expect(await redeemed.claim('a', nowMs + 60_000, nowMs)).toBe(true);
    expect(await redeemed.claim('a', nowMs + 60_000, nowMs + 60_000)).toBe(false);
    expect(await redeemed.claim('a', nowMs + 60_000, nowMs + 60_001)).toBe(true);
  });
});
