import { applyDecorators, SetMetadata, UseFilters, UseGuards, UsePipes } from '@nestjs/common';
import { WsErrorFilter } from '../filters/ws-error.filter';
import { WsThrottlerGuard } from '../throttling/ws-throttler.guard';
import { WsValidationPipe } from '../validation/ws-validation.pipe';

/**
 * What every gateway class carries, in DESIGN §2's order: the per-event throttler (before the
 * handler's access guard), the payload pipe, and the filter that turns refusals into the `error`
 * event. Global guards, pipes and filters do not reach gateways, hence one class decorator.
 */
export const SocketEdge = (): ClassDecorator =>
  applyDecorators(
    SetMetadata(SOCKET_EDGE_METADATA, true),
    UseGuards(WsThrottlerGuard),
    UsePipes(WsValidationPipe),
    UseFilters(WsErrorFilter),
  );

/** Lets the boot check refuse a gateway that forgot @SocketEdge (it would validate nothing). */
export const SOCKET_EDGE_METADATA = Symbol('signalgate:socket-edge');
