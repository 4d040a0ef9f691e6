import { Controller, Get, Global, Module } from '@nestjs/common';
import { SubscribeMessage, WebSocketGateway } from '@nestjs/websockets';
import { Test } from '@nestjs/testing';
import { VisitorAccess } from '../src/auth/decorators/visitor-access.decorator';
import {
  AccessDeclarationChecker,
  AccessDeclarationError,
} from '../src/common/access/access-declaration.checker';
import { Public } from '../src/common/access/public.decorator';
import { CommonModule } from '../src/common/common.module';
import { AppConfig, validateEnvironment } from '../src/config/app-config';
import { startApp, TestApp } from './helpers/app';

@Global()
@Module({
  providers: [{ provide: AppConfig, useValue: validateEnvironment({ NODE_ENV: 'test' }) }],
  exports: [AppConfig],
})
class TestConfigModule {}

@Controller('deliberate')
class UndeclaredController {
  @Public()
  @Get('fine')
  fine(): string {
    return 'ok';
  }

  @Get('forgotten')
  forgotten(): string {
    return 'nobody declared who may call this';
  }
}

@WebSocketGateway()
class UndeclaredGateway {
  @SubscribeMessage('deliberately:undeclared')
  undeclared(): void {}

  @VisitorAccess()
  @VisitorAccess()
  @SubscribeMessage('deliberately:twice')
  twice(): void {}

  // @Public is for HTTP routes only (DESIGN §2).
  @Public()
  @SubscribeMessage('deliberately:public')
  publicMessage(): void {}

  // Declared, so not an offender (@VisitorAccess needs no auth providers in this test module).
  @VisitorAccess()
  @SubscribeMessage('deliberately:fine')
  fine(): void {}
}

describe('deny by default (DESIGN §2)', () => {
  it('refuses to boot, naming every handler without exactly one access decorator', async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [TestConfigModule, CommonModule],
      controllers: [UndeclaredController],
      providers: [UndeclaredGateway],
    }).compile();
    const app = moduleRef.createNestApplication({ logger: false });

    const boot = app.init();
    await expect(boot).rejects.toBeInstanceOf(AccessDeclarationError);
    const error = (await boot.catch((e: unknown) => e)) as AccessDeclarationError;
    expect(error.offenders).toEqual(
      expect.arrayContaining([
        expect.stringContaining('UndeclaredController.forgotten (GET route): no access decorator'),
        expect.stringContaining(
          'UndeclaredGateway.undeclared ("deliberately:undeclared"): no access decorator',
        ),
        expect.stringContaining('UndeclaredGateway.twice ("deliberately:twice"): 2 access decorators'),
        // Without @SocketEdge nothing would validate or throttle its events.
        'UndeclaredGateway: gateway without @SocketEdge()',
        'UndeclaredGateway.publicMessage ("deliberately:public"): "public" access does not apply to ws handlers',
      ]),
    );
    expect(error.offenders).toHaveLength(5);
    await app.close().catch(() => undefined);
  });

  describe('the real application', () => {
    let testApp: TestApp;
    beforeAll(async () => {
      testApp = await startApp();
    });
    afterAll(() => testApp.close());

    it('boots with every route and message handler declaring exactly one access rule', () => {
      const handlers = testApp.app.get(AccessDeclarationChecker).enumerate();
      const byName = Object.fromEntries(handlers.map((h) => [h.name, h.kinds]));
      expect(handlers.length).toBeGreaterThanOrEqual(10);
      for (const handler of handlers) expect(handler.kinds).toHaveLength(1);
      expect(byName['SignalingGateway.login ("agent:login")']).toEqual(['visitor']);
      expect(byName['SignalingGateway.status ("agent:status")']).toEqual(['agent']);
      expect(byName['AuthController.wsTicket (POST route)']).toEqual(['admin']);
      expect(byName['HealthController.ready (GET route)']).toEqual(['public']);
    });
  });
});
