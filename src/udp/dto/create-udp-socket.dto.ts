import {
  IsBindHost,
  IsBooleanField,
  IsHost,
  IsIntegerField,
  IsInterfaceAddress,
  IsLabels,
  IsResourceName,
  IsMulticastGroups,
  IsNestedObject,
  IsOneOf,
  IsPort,
  IsReceiveMode,
} from '../../common/validation';
import { ReceiveMode } from '../../sockets/socket-types';
import { UDP_TYPES, UdpType } from '../../sockets/udp-socket';
import { RuleSetDto } from '../../rules/dto/rule-set.dto';

const MiB = 1024 * 1024;

export class MulticastDto {
  @IsMulticastGroups({ description: 'Groups to join (IP_ADD_MEMBERSHIP), in the socket’s family', default: [], example: ['239.1.2.3'] })
  groups!: string[];

  @IsInterfaceAddress({
    description: 'Local interface address to join on and send multicast from (an IPv6 one may name its zone, `::%eth0`); the kernel picks when omitted',
    example: '127.0.0.1',
  })
  interface?: string;

  @IsIntegerField({ min: 0, max: 255, description: 'IP_MULTICAST_TTL (IPv6: hops) of outgoing multicast', default: 1, example: 1 })
  ttl!: number;

  @IsBooleanField({ description: 'IP_MULTICAST_LOOP: also deliver outgoing multicast to this host', default: true })
  loopback!: boolean;
}

export class UdpPeerDto {
  @IsHost({ description: 'Default peer: an IP address in canonical form or a host name (resolved once, in the socket’s family)', example: '127.0.0.1' })
  host!: string;

  @IsPort({ allowZero: false, description: 'Default peer’s port', example: 65433 })
  port!: number;
}

export class CreateUdpSocketDto {
  @IsOneOf(UDP_TYPES, { description: '`udp4` (IPv4) or `udp6` (IPv6; dual-stack unless `ipv6Only`)', default: 'udp4', example: 'udp4' })
  type!: UdpType;

  @IsBindHost({ description: 'Local address to bind: an IP address of the socket’s family or `localhost`; defaults to `127.0.0.1` (udp4) or `::1` (udp6)', example: '127.0.0.1' })
  host?: string;

  @IsPort({ allowZero: true, required: false, description: 'Port to bind; 0 lets the kernel pick a free one (the response shows it)', default: 0, example: 0 })
  port!: number;

  @IsReceiveMode({
    description:
      'What the socket does with received datagrams: `buffer` keeps them for reads, `echo` sends each back to its sender (the tutorial’s udp_server.py), `discard` counts and drops them',
    example: 'echo',
  })
  mode!: ReceiveMode;

  @IsBooleanField({ description: 'SO_REUSEADDR: share the port with other sockets that ask for it too', default: false })
  reuseAddr!: boolean;

  @IsBooleanField({ description: 'udp6 only: on `::`, IPv6 traffic only (no IPv4-mapped peers)', default: false })
  ipv6Only!: boolean;

  @IsBooleanField({ description: 'SO_BROADCAST: allow sends to broadcast addresses', default: false })
  broadcast!: boolean;

  @IsIntegerField({ min: 1, max: 255, description: 'IP_TTL (IPv6: unicast hops) of outgoing datagrams', default: 64, example: 64 })
  ttl!: number;

  @IsIntegerField({ min: 1024, max: 256 * MiB, description: 'SO_RCVBUF to ask for; the kernel may round or cap it (the response shows what is in force)', example: 262144 })
  recvBufferSize?: number;

  @IsIntegerField({ min: 1024, max: 256 * MiB, description: 'SO_SNDBUF to ask for; the kernel may round or cap it (the response shows what is in force)', example: 262144 })
  sendBufferSize?: number;

  @IsNestedObject(MulticastDto, { description: 'Multicast: groups to join, interface, TTL and loopback' })
  multicast?: MulticastDto;

  @IsNestedObject(UdpPeerDto, {
    description: 'Default peer (connected UDP): sends may omit the destination, and only datagrams from this peer arrive',
  })
  connectTo?: UdpPeerDto;

  @IsLabels()
  labels!: Record<string, string>;

  @IsNestedObject(RuleSetDto, { description: 'Reply rules it runs on every datagram from the start (docs/rules.md); changeable later with PUT …/rules' })
  rules?: RuleSetDto;

  @IsResourceName({ description: 'A name unique among your UDP sockets (409 NAME_IN_USE otherwise); scenarios find their sockets by it', example: 'dns' })
  name?: string;
}
