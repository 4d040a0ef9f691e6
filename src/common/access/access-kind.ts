import { SetMetadata } from '@nestjs/common';

/** The six access rules of DESIGN §2. Every handler declares exactly one. */
export type AccessKind = 'agent' | 'visitor' | 'call-party' | 'metrics' | 'admin' | 'public';

export const ACCESS_KINDS_METADATA = Symbol('signalgate:access-kinds');

/** Transports each kind belongs to: a WS decorator on an HTTP route is a mistake, caught at boot. */
export const ACCESS_TRANSPORTS: Record<AccessKind, ReadonlyArray<'http' | 'ws'>> = {
  agent: ['ws'],
  visitor: ['ws'],
  'call-party': ['ws'],
  metrics: ['http'],
  admin: ['http'],
  // HTTP only (DESIGN §2). An anonymous socket event is @VisitorAccess(): validated, throttled,
  // and visibly a message anyone may send.
  public: ['http'],
};

/**
 * Records that a handler declared an access kind. Appends rather than overwrites, so that a handler
 * carrying two access decorators is visible to the boot check (plain SetMetadata would hide one).
 */
export function DeclareAccess(kind: AccessKind): MethodDecorator {
  return (_target, _key, descriptor: PropertyDescriptor) => {
    const handler = descriptor.value as object;
    const existing = (Reflect.getMetadata(ACCESS_KINDS_METADATA, handler) as AccessKind[] | undefined) ?? [];
    Reflect.defineMetadata(ACCESS_KINDS_METADATA, [...existing, kind], handler);
    return descriptor;
  };
}

export const IS_PUBLIC_METADATA = 'signalgate:public';
/** Kept as plain metadata too so that Nest's own tooling (e.g. Swagger) can see it. */
export const PublicMarker = (): MethodDecorator => SetMetadata(IS_PUBLIC_METADATA, true);
