import { Injectable, Logger, OnApplicationBootstrap, Type } from '@nestjs/common';
import type { InstanceWrapper } from '@nestjs/core/injector/instance-wrapper';
import { METHOD_METADATA, PATH_METADATA } from '@nestjs/common/constants';
import { DiscoveryService, MetadataScanner } from '@nestjs/core';
import { GATEWAY_METADATA, MESSAGE_MAPPING_METADATA, MESSAGE_METADATA } from '@nestjs/websockets/constants';
import { SOCKET_EDGE_METADATA } from '../socket/socket-edge.decorator';
import { ACCESS_KINDS_METADATA, ACCESS_TRANSPORTS, AccessKind } from './access-kind';

export interface HandlerDeclaration {
  transport: 'http' | 'ws';
  name: string;
  kinds: AccessKind[];
  /** The socket event name, for message handlers. */
  event?: string;
}

/** Thrown at boot: the app refuses to start with undeclared or doubly declared handlers. */
export class AccessDeclarationError extends Error {
  constructor(readonly offenders: readonly string[]) {
    super(
      `Access declaration check failed (deny by default):\n${offenders.map((o) => `  - ${o}`).join('\n')}`,
    );
    this.name = 'AccessDeclarationError';
  }
}

/**
 * Deny by default, proven at boot (DESIGN §2): enumerates every controller route and every gateway
 * message handler and refuses to start if any carries no access decorator, two of them, or one
 * meant for the other transport.
 */
@Injectable()
export class AccessDeclarationChecker implements OnApplicationBootstrap {
  private readonly logger = new Logger(AccessDeclarationChecker.name);

  constructor(
    private readonly discovery: DiscoveryService,
    private readonly scanner: MetadataScanner,
  ) {}

  onApplicationBootstrap(): void {
    const handlers = this.enumerate();
    const offenders = [
      ...findOffenders(handlers),
      ...this.gatewaysWithoutEdge().map((name) => `${name}: gateway without @SocketEdge()`),
    ];
    if (offenders.length > 0) throw new AccessDeclarationError(offenders);
    this.logger.log(`access declared on all ${handlers.length} handlers`);
  }

  enumerate(): HandlerDeclaration[] {
    const result: HandlerDeclaration[] = [];
    for (const wrapper of this.discovery.getControllers()) {
      // The class, not the instance: a handler must be checked even if its instance is not built yet.
      const prototype = classOf(wrapper)?.prototype as object | undefined;
      if (!prototype) continue;
      for (const method of this.scanner.getAllMethodNames(prototype)) {
        const handler = (prototype as Record<string, unknown>)[method] as object;
        if (Reflect.getMetadata(PATH_METADATA, handler) === undefined) continue;
        const verb = Reflect.getMetadata(METHOD_METADATA, handler) as number | undefined;
        result.push({
          transport: 'http',
          name: `${wrapper.name}.${method} (${verb === undefined ? '?' : HTTP_VERBS[verb]} route)`,
          kinds: kindsOf(handler),
        });
      }
    }
    for (const gateway of this.gateways()) {
      const prototype = gateway.prototype as object;
      for (const method of this.scanner.getAllMethodNames(prototype)) {
        const handler = (prototype as Record<string, unknown>)[method] as object;
        if (!Reflect.getMetadata(MESSAGE_MAPPING_METADATA, handler)) continue;
        const message = Reflect.getMetadata(MESSAGE_METADATA, handler) as string;
        result.push({
          transport: 'ws',
          name: `${gateway.name}.${method} ("${message}")`,
          kinds: kindsOf(handler),
          event: message,
        });
      }
    }
    return result;
  }

  gatewaysWithoutEdge(): string[] {
    return this.gateways()
      .filter((gateway) => !Reflect.getMetadata(SOCKET_EDGE_METADATA, gateway))
      .map((gateway) => gateway.name);
  }

  private gateways(): Type[] {
    return this.discovery
      .getProviders()
      .map(classOf)
      .filter((type): type is Type => !!type && !!Reflect.getMetadata(GATEWAY_METADATA, type));
  }
}

function classOf(wrapper: InstanceWrapper): Type | undefined {
  return typeof wrapper.metatype === 'function' && wrapper.metatype.prototype
    ? (wrapper.metatype as Type)
    : undefined;
}

export function findOffenders(handlers: readonly HandlerDeclaration[]): string[] {
  const offenders: string[] = [];
  for (const { transport, name, kinds } of handlers) {
    if (kinds.length === 0) offenders.push(`${name}: no access decorator`);
    else if (kinds.length > 1)
      offenders.push(`${name}: ${kinds.length} access decorators (${kinds.join(', ')})`);
    else if (!ACCESS_TRANSPORTS[kinds[0]].includes(transport)) {
      offenders.push(`${name}: "${kinds[0]}" access does not apply to ${transport} handlers`);
    }
  }
  return offenders;
}

function kindsOf(handler: object): AccessKind[] {
  return (Reflect.getMetadata(ACCESS_KINDS_METADATA, handler) as AccessKind[] | undefined) ?? [];
}

const HTTP_VERBS = ['GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'ALL', 'OPTIONS', 'HEAD', 'SEARCH'];
