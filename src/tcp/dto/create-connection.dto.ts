import { IsBooleanField, IsHost, IsIntegerField, IsLabels, IsNestedObject, IsOneOf, IsPort, IsReceiveMode } from '../../common/validation';
import { ReceiveMode } from '../../sockets/socket-types';
import { ConnectionTlsRequestDto } from '../../tls/dto/connection-tls-request.dto';
import { FramingDto } from './framing.dto';
import { RuleSetDto } from '../../rules/dto/rule-set.dto';

export class CreateConnectionDto {
  @IsHost({ description: 'Host to connect to: an IP address in canonical form or a host name (resolved once; the vetted address is dialled)', example: '127.0.0.1' })
  host!: string;

  @IsPort({ allowZero: false, description: 'Port to connect to', example: 65432 })
  port!: number;

  @IsOneOf([0, 4, 6], { description: 'Resolve host names to this address family only (4 or 6); 0 takes either', default: 0, example: 0 })
  family!: 0 | 4 | 6;

  @IsIntegerField({ min: 1, max: 120_000, description: 'Give up (504 CONNECT_TIMEOUT) after this long', default: 10_000, example: 5000 })
  connectTimeoutMs!: number;

  @IsReceiveMode({ description: 'What the connection does with received bytes: `buffer` (keep for reads), `echo`, `discard`' })
  mode!: ReceiveMode;

  @IsBooleanField({ description: 'TCP_NODELAY (disable Nagle)', default: false })
  noDelay!: boolean;

  @IsBooleanField({ description: 'SO_KEEPALIVE', default: false })
  keepAlive!: boolean;

  @IsIntegerField({ min: 0, max: 7_200_000, description: 'Delay before the first keep-alive probe', default: 0 })
  keepAliveInitialDelayMs!: number;

  @IsIntegerField({ min: 0, max: 86_400_000, description: 'Close after this long without traffic (reason `timeout`); 0 = never. Omitted: the server default (SOCKPLANE_IDLE_TIMEOUT_MS)', example: 0 })
  idleTimeoutMs?: number;

  @IsNestedObject(ConnectionTlsRequestDto, { description: 'TLS from the start; omitted: plain TCP' })
  tls?: ConnectionTlsRequestDto;

  @IsLabels()
  labels!: Record<string, string>;

  @IsNestedObject(FramingDto, { description: 'How received bytes are cut into frames (read them at …/frames); `none` when not given. Changeable later with PUT …/framing' })
  framing?: FramingDto;

  @IsNestedObject(RuleSetDto, { description: 'Reply rules it runs from the start, its `connect` rules once connected (docs/rules.md); changeable later with PUT …/rules' })
  rules?: RuleSetDto;
}
