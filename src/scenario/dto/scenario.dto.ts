import { ApiProperty } from '@nestjs/swagger';
import { IsNestedList, IsResourceName, IsText } from '../../common/validation';
import { CreateTcpProxyDto } from '../../proxies/dto/create-tcp-proxy.dto';
import { CreateListenerDto } from '../../tcp/dto/create-listener.dto';
import { CreateUdpSocketDto } from '../../udp/dto/create-udp-socket.dto';

/** A listener of a scenario: what `POST /v1/tcp/listeners` takes, and a name, which the scenario knows it by. */
export class ScenarioListenerDto extends CreateListenerDto {
  @IsResourceName({ required: true, description: 'Unique among the scenario’s listeners; applying again finds the listener by it', example: 'smtp' })
  declare name: string;
}

/** A UDP socket of a scenario: what `POST /v1/udp/sockets` takes, and a name. */
export class ScenarioUdpSocketDto extends CreateUdpSocketDto {
  @IsResourceName({ required: true, description: 'Unique among the scenario’s UDP sockets; applying again finds the socket by it', example: 'dns' })
  declare name: string;
}

/** A TCP proxy of a scenario: what `POST /v1/tcp/proxies` takes (faults included), with its name required. */
export class ScenarioTcpProxyDto extends CreateTcpProxyDto {
  @IsText({
    required: true,
    minLength: 1,
    maxLength: 64,
    description: 'Unique among proxies (Toxiproxy’s API finds it by it too); applying again finds the proxy by it',
    example: 'db',
    pattern: { source: '^[A-Za-z0-9._-]+$', message: 'name must be letters, digits and . _ -' },
  })
  declare name: string;
}

/**
 * A declarative set of named resources, a section per kind. Applying it makes the running state
 * match: what did not change stays (same ports, same connections), what changed is replaced,
 * what is gone closes.
 */
export class ScenarioDto {
  @IsNestedList(ScenarioListenerDto, { minItems: 0, maxItems: 1000, description: 'TCP listeners, each as `POST /v1/tcp/listeners` takes it, with a name' })
  tcpListeners?: ScenarioListenerDto[];

  @IsNestedList(ScenarioUdpSocketDto, { minItems: 0, maxItems: 1000, description: 'UDP sockets, each as `POST /v1/udp/sockets` takes it, with a name' })
  udpSockets?: ScenarioUdpSocketDto[];

  @IsNestedList(ScenarioTcpProxyDto, { minItems: 0, maxItems: 1000, description: 'TCP proxies, each as `POST /v1/tcp/proxies` takes it (inline `faults` included), with a name. A proxy whose entry changed in any way is replaced' })
  tcpProxies?: ScenarioTcpProxyDto[];
}

/** What applying a scenario did, by resource name, and the scenario now running. */
export class ScenarioResultDto {
  @ApiProperty({ type: [String], description: 'Resources opened (`kind/name`)', example: ['tcpListeners/smtp'] })
  created!: string[];

  @ApiProperty({ type: [String], description: 'Resources whose rules changed in place (ports and connections kept)', example: [] })
  updated!: string[];

  @ApiProperty({ type: [String], description: 'Resources that did not change (ports and connections kept)', example: ['udpSockets/dns'] })
  kept!: string[];

  @ApiProperty({ type: [String], description: 'Resources replaced: closed and opened again because more than their rules changed', example: [] })
  replaced!: string[];

  @ApiProperty({ type: [String], description: 'Resources closed because the scenario no longer has them (a listener with its connections)', example: [] })
  removed!: string[];

  @ApiProperty({ type: ScenarioDto, description: 'The running scenario, as `GET /v1/scenario` exports it' })
  scenario!: ScenarioDto;
}
