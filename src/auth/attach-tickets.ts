import { Injectable } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import { ApiProblem } from '../common/api-problem';
import { Caller } from './caller';

/** How long a ticket can be redeemed. */
export const TICKET_TTL_MS = 30_000;
/** Tickets outstanding at once: each lives 30 s, so only a flood of requests reaches it. */
export const MAX_TICKETS = 10_000;

/** A one-time ticket as `POST …/attach-tickets` answers it. */
export interface IssuedTicket {
  ticket: string;
  expiresAt: Date;
}

interface Grant {
  caller: Caller;
  resourceId: string;
  /** Issued for an attachment that writes; a read-only ticket cannot attach to write. */
  write: boolean;
  expiresAt: number;
}

/** What a redeemed ticket lets its bearer do. */
export interface TicketGrant {
  caller: Caller;
  write: boolean;
}

/**
 * One-time tickets for attaching a WebSocket from a browser, which cannot set `Authorization`
 * on one: a caller with a key asks for a ticket for one socket, and the page passes it as
 * `?ticket=`. A ticket works once, for that socket only, within `TICKET_TTL_MS`. Expired tickets
 * are dropped whenever one is issued, so no timer runs.
 */
@Injectable()
export class AttachTickets {
  /** By ticket, in the order issued: with one lifetime for all, also the order they expire in. */
  private readonly grants = new Map<string, Grant>();

  constructor(private readonly now: () => number = Date.now) {}

  issue(resourceId: string, caller: Caller, write: boolean): IssuedTicket {
    this.dropExpired();
    if (this.grants.size >= MAX_TICKETS) {
      throw new ApiProblem('QUOTA_EXCEEDED', `${MAX_TICKETS} attach tickets are outstanding; each expires 30 s after it was issued`, { limit: 'attachTickets', max: MAX_TICKETS });
    }
    const ticket = randomBytes(24).toString('base64url');
    const expiresAt = this.now() + TICKET_TTL_MS;
    this.grants.set(ticket, { caller, resourceId, write, expiresAt });
    return { ticket, expiresAt: new Date(expiresAt) };
  }

  /** Uses up `ticket`: its grant if it is valid for `resourceId`, otherwise null (unknown, used, expired, or for another socket). */
  redeem(ticket: string, resourceId: string): TicketGrant | null {
    const grant = this.grants.get(ticket);
    if (grant === undefined) return null;
    this.grants.delete(ticket);
    if (grant.expiresAt <= this.now() || grant.resourceId !== resourceId) return null;
    return { caller: grant.caller, write: grant.write };
  }

  /** Tickets not yet used nor expired. */
  get size(): number {
    this.dropExpired();
    return this.grants.size;
  }

  private dropExpired(): void {
    const now = this.now();
    for (const [ticket, grant] of this.grants) {
      if (grant.expiresAt > now) break;
      this.grants.delete(ticket);
    }
  }
}
