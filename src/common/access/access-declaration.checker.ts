import { Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { METHOD_METADATA, PATH_METADATA } from '@nestjs/common/constants';
import { DiscoveryService, MetadataScanner } from '@nestjs/core';
import { ACCESS_KINDS_METADATA, ACCESS_TRANSPORTS, AccessKind } from './access-kind';

// Socket.IO metadata keys as written by @nestjs/websockets (`@WebSocketGateway`, `@SubscribeMessage`).
const GATEWAY_METADATA = 'websockets:is_gateway';
const MESSAGE_MAPPING_METADATA = 'websockets:message_mapping';
const MESSAGE_METADATA = 'message';

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
    const offenders = findOffenders(handlers);
    if (offenders.length > 0) throw new AccessDeclarationError(offenders);
    this.logger.log(`access declared on all ${handlers.length} handlers`);
  }

  enumerate(): HandlerDeclaration[] {
    const result: HandlerDeclaration[] = [];
    for (const wrapper of this.discovery.getControllers()) {
      const instance = wrapper.instance as object | undefined;
      if (!instance) continue;
      const prototype = Object.getPrototypeOf(instance) as object;
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
    for (const wrapper of this.discovery.getProviders()) {
      const instance = wrapper.instance as object | undefined;
      if (!instance || !wrapper.metatype || !Reflect.getMetadata(GATEWAY_METADATA, wrapper.metatype))
        continue;
      const prototype = Object.getPrototypeOf(instance) as object;
      for (const method of this.scanner.getAllMethodNames(prototype)) {
        const handler = (prototype as Record<string, unknown>)[method] as object;
        if (!Reflect.getMetadata(MESSAGE_MAPPING_METADATA, handler)) continue;
        const message = Reflect.getMetadata(MESSAGE_METADATA, handler) as string;
        result.push({
          transport: 'ws',
          name: `${wrapper.name}.${method} ("${message}")`,
          kinds: kindsOf(handler),
          event: message,
        });
      }
    }
    return result;
  }
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
