import { Module } from '@nestjs/common';
import { ApiKeyHook } from './api-key.hook';

/** Checks the API key of every `/v1` request (see `ApiKeyHook`). */
@Module({ providers: [ApiKeyHook] })
export class AuthModule {}
