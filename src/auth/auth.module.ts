import { Module } from '@nestjs/common';
import { ApiKeyHook } from './api-key.hook';
import { AttachTickets } from './attach-tickets';

/** Checks the API key of every `/v1` request (see `ApiKeyHook`), or the one-time ticket of a WebSocket attach. */
@Module({
  providers: [ApiKeyHook, { provide: AttachTickets, useFactory: () => new AttachTickets() }],
  exports: [AttachTickets],
})
export class AuthModule {}
