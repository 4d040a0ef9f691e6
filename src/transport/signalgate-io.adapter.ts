import { INestApplication } from '@nestjs/common';
import { IoAdapter } from '@nestjs/platform-socket.io';
import type { MessageMappingProperties } from '@nestjs/websockets';
import type { Observable } from 'rxjs';
import type { Server, ServerOptions } from 'socket.io';
import { RedisConnections } from '../common/redis/redis-connections.service';
import { ErrorCode } from '../common/errors/error-code';
import { refusalOf, SocketEventObserver, trackedAck } from '../common/socket/socket-event-observer';
import { AppConfig } from '../config/app-config';
import { useRedisAdapter } from './redis-io-adapter';
import { SocketDrain } from './socket-drain.service';

/**
 * PROTOCOL §1: Socket.IO's own default, 1 MiB, which the existing widget's co-browse snapshots
 * need. A larger frame closes its connection (Socket.IO's behaviour); every event keeps its own,
 * smaller limit, answered INVALID_PAYLOAD on an open connection (WsValidationPipe).
 */
export const MAX_SOCKET_FRAME_BYTES = 1024 * 1024;

type MessageCallback = MessageMappingProperties['callback'];

/**
 * Events one socket may have waiting for their turn: above the largest burst its budgets let
 * through in a window (1,500 pointer updates), so that the budgets, with their records, speak first.
 */
export const MAX_QUEUED_EVENTS = 4_096;
const TOO_MANY_QUEUED = 'Too many events are waiting to be handled. Please slow down.';

/** What the queue needs of a socket (Nest's adapter brings its own copy of socket.io's types). */
interface QueuedSocket {
  emit(event: string, payload: unknown): unknown;
}

/** One socket's queue: its tail, and how many events are in it. */
interface Lane {
  tail: Promise<unknown>;
  queued: number;
}

/**
 * Socket.IO with the configured CORS origins and frame limit (the gateway decorator is static),
 * and two things done once per dispatched event, here rather than in Nest's pipeline:
 * - **One event at a time per socket, in arrival order.** Nest runs a socket's handlers
 *   concurrently, so two events sent back to back could finish in either order: a widget's
 *   `call:reconnect` then `visitor:join`, a dashboard's `agent:login` then `agent:back`, an offer
 *   then its ICE candidates. Each socket's events form one queue, and its disconnect handlers
 *   join the queue too: every event that arrived before the socket went away is handled, and the
 *   cleanup comes after them all. A socket that lets more than MAX_QUEUED_EVENTS pile up (behind a
 *   slow login, say) has the next ones refused with RATE_LIMITED rather than held in memory.
 * - **Observation**: every event is reported to the SocketEventObserver, timed around Nest's whole
 *   edge — not by an interceptor, whose chain costs more per event than everything else the edge
 *   does (see README, Performance).
 */
export class SignalgateIoAdapter extends IoAdapter {
  private readonly lanes = new WeakMap<object, Lane>();

  constructor(
    app: INestApplication,
    private readonly config: AppConfig,
    private readonly observer: SocketEventObserver,
    private readonly redis: RedisConnections | null = null,
    private readonly drain: SocketDrain | null = null,
  ) {
    super(app);
  }

  override bindMessageHandlers(
    socket: Parameters<IoAdapter['bindMessageHandlers']>[0],
    handlers: MessageMappingProperties[],
    transform: (data: unknown) => Observable<unknown>,
  ): void {
    super.bindMessageHandlers(
      socket,
      handlers.map((handler) => {
        const event = String(handler.message);
        return { ...handler, callback: this.inLane(socket, event, this.observed(event, handler.callback)) };
      }),
      transform,
    );
  }

  /** The disconnect handlers run after every event that arrived before it, never beside one. */
  override bindClientDisconnect(client: object, callback: () => void): void {
    super.bindClientDisconnect(client, () => {
      // Tracked from the moment it is queued: until it runs, the gateways have nothing to hand the
      // drain, and a graceful stop must not mistake an empty list for "all handled".
      const queued = this.enqueue(this.laneOf(client), callback);
      this.drain?.track(queued);
    });
  }

  private inLane(socket: QueuedSocket, event: string, callback: MessageCallback): MessageCallback {
    return (data: unknown, ack?: (response: unknown) => void) => {
      const lane = this.laneOf(socket);
      if (lane.queued >= MAX_QUEUED_EVENTS) return this.refuseQueued(socket, event, ack);
      return this.enqueue(lane, () => callback(data, ack));
    };
  }

  private laneOf(socket: object): Lane {
    let lane = this.lanes.get(socket);
    if (!lane) this.lanes.set(socket, (lane = { tail: Promise.resolve(), queued: 0 }));
    return lane;
  }

  /** Runs `task` once everything queued before it on this lane has settled. */
  private enqueue<T>(lane: Lane, task: () => T): Promise<Awaited<T>> {
    lane.queued += 1;
    const run = lane.tail.then(task).finally(() => (lane.queued -= 1)) as Promise<Awaited<T>>;
    // The stored tail never rejects, so a failed event cannot stop the queue; its error still
    // reaches its own caller through `run`.
    lane.tail = run.catch(() => undefined);
    return run;
  }

  /** Answered here, outside Nest's pipeline: the event never reached a handler. */
  private refuseQueued(
    socket: QueuedSocket,
    event: string,
    ack?: (response: unknown) => void,
  ): Promise<undefined> {
    const error = { code: ErrorCode.RateLimited, message: TOO_MANY_QUEUED };
    socket.emit('error', { ...error, event });
    ack?.({ success: false, error });
    this.observer.observe(event, ErrorCode.RateLimited, 0);
    return Promise.resolve(undefined);
  }

  private observed(event: string, callback: MessageCallback): MessageCallback {
    return (data: unknown, clientAck?: (response: unknown) => void) => {
      const started = process.hrtime.bigint();
      const ack = trackedAck(clientAck);
      const done = (result: string): void =>
        this.observer.observe(event, result, Number(process.hrtime.bigint() - started) / 1e9);
      return Promise.resolve(callback(data, ack)).then(
        (response: unknown) => {
          done(refusalOf(ack) ?? 'ok');
          return response;
        },
        (error: unknown) => {
          done(ErrorCode.InternalError);
          throw error;
        },
      );
    };
  }

  override createIOServer(port: number, options?: ServerOptions): unknown {
    const origins = this.config.corsOrigins;
    const server = super.createIOServer(port, {
      ...options,
      maxHttpBufferSize: MAX_SOCKET_FRAME_BYTES,
      cors: { origin: origins === '*' ? '*' : [...origins], credentials: origins !== '*' },
    }) as Server;
    if (this.redis?.enabled) useRedisAdapter(server, this.redis);
    this.drain?.attach(server);
    return server;
  }
}
