import { IsBindHost, IsBooleanField, IsIntegerField, IsLabels, IsNestedObject, IsPort, IsReceiveMode, IsResourceName } from '../../common/validation';
import { ReceiveMode } from '../../sockets/socket-types';
import { ListenerTlsDto } from '../../tls/dto/listener-tls.dto';
import { FramingDto } from './framing.dto';
import { RuleSetDto } from '../../rules/dto/rule-set.dto';

export class CreateListenerDto {
  @IsBindHost({ description: 'Local address to bind: `127.0.0.1`, `::1`, `0.0.0.0`, `::` or `localhost`', default: '127.0.0.1', example: '127.0.0.1' })
  host!: string;

  @IsPort({ allowZero: true, required: false, description: 'Port to bind; 0 lets the kernel pick a free one (the response shows it)', default: 0, example: 0 })
  port!: number;

  @IsBooleanField({ description: 'On `::`, accept IPv6 only (no IPv4-mapped clients)', default: false })
  ipv6Only!: boolean;

  @IsIntegerField({ min: 1, max: 65535, description: 'Length of the kernel queue of connections not yet accepted', default: 511, example: 511 })
  backlog!: number;

  @IsIntegerField({ min: 0, max: 1_000_000, description: 'Connections open at once beyond which new ones are dropped (counted in `dropped`); 0 = no limit', default: 0, example: 0 })
  maxConnections!: number;

  @IsReceiveMode({
    description: 'What accepted connections do with received bytes: `buffer` keeps them for reads, `echo` sends them straight back (the tutorial server), `discard` counts and drops them',
    example: 'echo',
  })
  mode!: ReceiveMode;

  @IsBooleanField({ description: 'TCP_NODELAY on accepted connections (disable Nagle)', default: false })
  noDelay!: boolean;

  @IsBooleanField({ description: 'SO_KEEPALIVE on accepted connections', default: false })
  keepAlive!: boolean;

  @IsIntegerField({ min: 0, max: 7_200_000, description: 'Delay before the first keep-alive probe', default: 0 })
  keepAliveInitialDelayMs!: number;

  @IsIntegerField({
    min: 0,
    max: 86_400_000,
    description: 'Close accepted connections after this long without traffic (reason `timeout`); 0 = never. Omitted: the server default (SOCKPLANE_IDLE_TIMEOUT_MS)',
    example: 0,
  })
  idleTimeoutMs?: number;

  @IsNestedObject(ListenerTlsDto, { description: 'TLS for accepted connections; omitted: plain TCP' })
  tls?: ListenerTlsDto;

  @IsLabels()
  labels!: Record<string, string>;

  @IsNestedObject(FramingDto, { description: 'How accepted connections cut received bytes into frames (read them at …/connections/{id}/frames); `none` when not given' })
  framing?: FramingDto;

  @IsNestedObject(RuleSetDto, { description: 'Reply rules each accepted connection starts with, a copy of its own (docs/rules.md); none when not given' })
  rules?: RuleSetDto;

  @IsResourceName({ description: 'A name unique among your listeners (409 NAME_IN_USE otherwise); scenarios find their listeners by it', example: 'smtp' })
  name?: string;
}
