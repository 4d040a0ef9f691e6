import type { INestApplication } from '@nestjs/common';
import type { MessageMappingProperties } from '@nestjs/websockets';
import { EventEmitter } from 'node:events';
import { from, Observable } from 'rxjs';
import { ErrorCode } from '../common/errors/error-code';
import { SocketEventObserver } from '../common/socket/socket-event-observer';
import type { AppConfig } from '../config/app-config';
import { MAX_QUEUED_EVENTS, SignalgateIoAdapter } from './signalgate-io.adapter';

/** Records what the adapter reports, in order. */
class RecordingObserver extends SocketEventObserver {
  readonly seen: [string, string][] = [];
  observe(event: string, result: string): void {
    this.seen.push([event, result]);
  }
}

/** A client socket as the adapter sees one: an event emitter that can also "send" to the client. */
class FakeSocket extends EventEmitter {
  readonly sent: [string, unknown][] = [];
  /** What a client sends arrives as an event; what the server sends is recorded. */
  receive(event: string, ...args: unknown[]): void {
    super.emit(event, ...args);
  }
  override emit(event: string, payload?: unknown): boolean {
    this.sent.push([event, payload]);
    return true;
  }
}

/** As Nest's: the handler's result as an observable (Nest's own handlers never reject). */
const transform = (value: unknown): Observable<unknown> =>
  from(Promise.resolve(value).catch(() => undefined));
const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('SignalgateIoAdapter: one event at a time per socket', () => {
  let observer: RecordingObserver;
  let adapter: SignalgateIoAdapter;
  let socket: FakeSocket;
  const log: string[] = [];
  let releaseSlow: () => void;

  beforeEach(() => {
    log.length = 0;
    observer = new RecordingObserver();
    adapter = new SignalgateIoAdapter(undefined as unknown as INestApplication, {} as AppConfig, observer);
    socket = new FakeSocket();
    const handlers: MessageMappingProperties[] = [
      {
        message: 'slow',
        methodName: 'slow',
        isAckHandledManually: false,
        callback: () =>
          new Promise<string>((resolve) => {
            log.push('slow started');
            releaseSlow = () => {
              log.push('slow done');
              resolve('slow');
            };
          }),
      },
      {
        message: 'fast',
        methodName: 'fast',
        isAckHandledManually: false,
        callback: (data: unknown) => {
          log.push(`fast ${String(data)}`);
          return Promise.resolve('fast');
        },
      },
      {
        message: 'fails',
        methodName: 'fails',
        isAckHandledManually: false,
        callback: () => Promise.reject(new Error('boom')),
      },
    ];
    adapter.bindMessageHandlers(socket as never, handlers, transform);
    adapter.bindClientDisconnect(socket, () => log.push('disconnect handled'));
  });

  it('handles a socket’s events in arrival order, each after the one before has finished', async () => {
    socket.receive('slow');
    socket.receive('fast', 1);
    socket.receive('fast', 2);
    await tick();
    expect(log).toEqual(['slow started']);
    releaseSlow();
    await tick();
    await tick();
    expect(log).toEqual(['slow started', 'slow done', 'fast 1', 'fast 2']);
  });

  it('a failing event does not stop the queue', async () => {
    socket.receive('fails');
    socket.receive('fast', 1);
    await tick();
    await tick();
    expect(log).toEqual(['fast 1']);
    expect(observer.seen).toEqual([
      ['fails', ErrorCode.InternalError],
      ['fast', 'ok'],
    ]);
  });

  it('runs the disconnect handlers after every event that arrived before it', async () => {
    socket.receive('slow');
    socket.receive('fast', 1);
    socket.receive('disconnect');
    await tick();
    expect(log).toEqual(['slow started']);
    releaseSlow();
    await tick();
    await tick();
    expect(log).toEqual(['slow started', 'slow done', 'fast 1', 'disconnect handled']);
  });

  it(`refuses events beyond ${MAX_QUEUED_EVENTS} waiting with RATE_LIMITED, without holding them`, async () => {
    socket.receive('slow');
    await tick();
    // The slow one runs; these wait behind it, up to the limit.
    for (let i = 1; i < MAX_QUEUED_EVENTS; i += 1) socket.receive('fast', i);
    const acks: unknown[] = [];
    socket.receive('fast', 'one too many', (response: unknown) => acks.push(response));
    expect(socket.sent).toEqual([
      ['error', { code: ErrorCode.RateLimited, message: expect.stringMatching(/slow down/), event: 'fast' }],
    ]);
    expect(acks).toEqual([
      { success: false, error: { code: ErrorCode.RateLimited, message: expect.any(String) } },
    ]);
    expect(observer.seen).toEqual([['fast', ErrorCode.RateLimited]]);
    releaseSlow();
    for (let i = 0; i < 5; i += 1) await tick();
    expect(log.filter((line) => line.startsWith('fast'))).toHaveLength(MAX_QUEUED_EVENTS - 1);
    expect(log).not.toContain('fast one too many');
    // Room again once the queue drained.
    socket.receive('fast', 'later');
    await tick();
    await tick();
    expect(log[log.length - 1]).toBe('fast later');
  });
});
