import { ApiProblem } from '../common/api-problem';
import { AttachTickets, MAX_TICKETS, TICKET_TTL_MS } from './attach-tickets';

describe('AttachTickets', () => {
  const alice = { owner: 'alice', scope: 'alice' };

  it('redeems a ticket once, for its socket only', () => {
    const tickets = new AttachTickets();
    const { ticket } = tickets.issue('tc_1', alice, true);
    expect(tickets.redeem(ticket, 'tc_1')).toEqual({ caller: alice, write: true });
    expect(tickets.redeem(ticket, 'tc_1')).toBeNull();
    const other = tickets.issue('tc_1', alice, false).ticket;
    expect(tickets.redeem(other, 'tc_2')).toBeNull();
    expect(tickets.redeem(other, 'tc_1')).toBeNull();
    expect(tickets.redeem('made-up', 'tc_1')).toBeNull();
  });

  it('expires tickets after their lifetime and forgets them', () => {
    let now = 1_000_000;
    const tickets = new AttachTickets(() => now);
    const { ticket, expiresAt } = tickets.issue('tc_1', alice, false);
    expect(expiresAt.getTime()).toBe(now + TICKET_TTL_MS);
    tickets.issue('tc_1', alice, false);
    now += TICKET_TTL_MS;
    expect(tickets.size).toBe(0);
    expect(tickets.redeem(ticket, 'tc_1')).toBeNull();
  });

  it('refuses more than MAX_TICKETS outstanding, and issues again as they expire', () => {
    let now = 0;
    const tickets = new AttachTickets(() => now);
    for (let i = 0; i < MAX_TICKETS; i++) tickets.issue('tc_1', alice, false);
    expect(() => tickets.issue('tc_1', alice, false)).toThrow(ApiProblem);
    now += TICKET_TTL_MS;
    expect(tickets.issue('tc_1', alice, false).ticket).toEqual(expect.any(String));
  });
});
