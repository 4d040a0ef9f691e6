import { Global, Module } from '@nestjs/common';
import { ConfigModule, ConfigService } from '@nestjs/config';
import { randomBytes } from 'node:crypto';
import { AppConfig, validateEnvironment } from './app-config';

const APP_CONFIG_KEY = 'signalgate';

/**
 * Loads `.env` (if present) over the process environment, validates it once at boot and exposes
 * the typed `AppConfig`. A bad value stops the boot with one message naming every variable.
 */
@Global()
@Module({
  imports: [
    ConfigModule.forRoot({
      cache: true,
      validate: (raw) => ({
        [APP_CONFIG_KEY]: validateEnvironment(raw as Record<string, string | undefined>),
      }),
    }),
  ],
  providers: [
    {
      provide: AppConfig,
      inject: [ConfigService],
      useFactory: (configService: ConfigService): AppConfig => {
        const config = configService.getOrThrow<AppConfig>(APP_CONFIG_KEY);
        // Development convenience: tickets still work without TICKET_SECRET, signed with a
        // random per-boot secret (production refuses to boot without one).
        if (config.ticketSecretGenerated) {
          return new AppConfig({ ...config, ticketSecret: randomBytes(32).toString('hex') });
        }
        return config;
      },
    },
  ],
  exports: [AppConfig],
})
export class AppConfigModule {}
