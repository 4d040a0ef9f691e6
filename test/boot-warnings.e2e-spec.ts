import { AuditRecorder } from '../src/audit/audit-recorder.service';
import { AuditStore } from '../src/audit/audit.store';
import { startApp } from './helpers/app';

describe('boot warnings reach the audit trail, once', () => {
  it('a production boot without metrics keys is recorded as one config.warning', async () => {
    const testApp = await startApp({
      NODE_ENV: 'production',
      CORS_ORIGINS: 'https://dashboard.example.com',
    });
    try {
      await testApp.app.get(AuditRecorder).flush();
      const warnings = await testApp.app.get(AuditStore).list({ types: ['config.warning'] }, 100);
      const reasons = warnings.map((record) => record.reason).sort();
      expect(reasons).toEqual(['metrics_api_keys_missing']);
      expect(warnings[0].source).toEqual({ transport: 'system' });
    } finally {
      await testApp.close();
    }
  });

  it('development conveniences are recorded once each, and nothing else warns', async () => {
    const testApp = await startApp({ AUTH_JWT_SECRET: '', TICKET_SECRET: '' });
    try {
      await testApp.app.get(AuditRecorder).flush();
      const warnings = await testApp.app.get(AuditStore).list({ types: ['config.warning'] }, 100);
      expect(warnings.map((record) => record.reason).sort()).toEqual([
        'dev_bypass_enabled',
        'ticket_secret_generated',
      ]);
    } finally {
      await testApp.close();
    }
  });
});
