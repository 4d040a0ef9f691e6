import 'reflect-metadata';
import { ConsoleLogger, Logger, LogLevel as NestLogLevel } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { NestExpressApplication } from '@nestjs/platform-express';
import type { AddressInfo } from 'node:net';
import { configureApp } from './app.setup';
import { ShutdownState } from './common/shutdown-state.service';
import { AppConfig, ConfigValidationError } from './config/app-config';

const LEVELS: Record<AppConfig['logLevel'], NestLogLevel[]> = {
  error: ['fatal', 'error'],
  warn: ['fatal', 'error', 'warn'],
  info: ['fatal', 'error', 'warn', 'log'],
  debug: ['fatal', 'error', 'warn', 'log', 'debug'],
  verbose: ['fatal', 'error', 'warn', 'log', 'debug', 'verbose'],
};

async function bootstrap(): Promise<void> {
  // Loaded here, not at the top: @nestjs/config validates the environment while the module graph is
  // being imported, and that failure must reach the single error message below.
  const { AppModule } = await import('./app.module');
  const app = await NestFactory.create<NestExpressApplication>(AppModule, {
    // Boot logs wait for the configured logger; a boot failure is not printed by Nest (stack and
    // all) but reaches the catch below, which prints one message and exits 1.
    bufferLogs: true,
    logger: false,
    abortOnError: false,
  });
  const config = app.get(AppConfig);
  app.useLogger(new ConsoleLogger({ logLevels: LEVELS[config.logLevel] }));
  configureApp(app);

  // SIGTERM/SIGINT: stop accepting, run every shutdown hook (flushes, closes), then exit 0.
  let closing = false;
  const shutdown = (signal: string): void => {
    if (closing) return;
    closing = true;
    Logger.log(`${signal} received: shutting down gracefully`, 'Bootstrap');
    app.get(ShutdownState).begin();
    app.close().then(
      () => process.exit(0),
      (error: Error) => {
        Logger.error(`shutdown failed: ${error.message}`, error.stack, 'Bootstrap');
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', () => shutdown('SIGTERM'));
  process.once('SIGINT', () => shutdown('SIGINT'));

  await app.listen(config.port, config.host);
  // The bound port, not the configured one: PORT=0 picks a free port.
  const { port } = app.getHttpServer().address() as AddressInfo;
  Logger.log(`signalgate listening on http://${config.host}:${port} (${config.nodeEnv})`, 'Bootstrap');
}

bootstrap().catch((error: Error) => {
  // One message naming every bad variable (or the offending handlers / agents-file entries).
  const message = error instanceof ConfigValidationError ? error.message : `${error.name}: ${error.message}`;
  process.stderr.write(`signalgate failed to start: ${message}\n`);
  process.exit(1);
});
