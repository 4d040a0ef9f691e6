/**
 * Prints a signed development token for a user of the agents file:
 *   npm run token -- --user <sub|agentId> [--expires 1h]
 * Signs with the first AUTH_JWT_SECRET when one is configured (so the server really verifies it),
 * otherwise with a fixed development secret (the development fallback accepts any token).
 */
import { existsSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { validateEnvironment } from '../src/config/app-config';
import { loadAgentsFile } from '../src/auth/directory/agents-file';
import { signDevToken } from './dev-token';

const DEV_SECRET = 'signalgate-development-secret-not-for-production';

async function main(): Promise<void> {
  if (existsSync('.env')) process.loadEnvFile('.env');
  const { values } = parseArgs({
    options: { user: { type: 'string' }, expires: { type: 'string', default: '1h' } },
  });
  if (!values.user) throw new Error('usage: npm run token -- --user <userId|agentId> [--expires 1h]');
  const config = validateEnvironment(process.env);
  if (config.isProduction) throw new Error('refusing to mint tokens with NODE_ENV=production');

  let sub = values.user;
  if (config.agentsFile) {
    const snapshot = loadAgentsFile(config.agentsFile);
    const user = snapshot.users.find(
      (u: { userId: string; agentId: string | null }) =>
        u.userId === values.user || u.agentId === values.user,
    );
    if (!user) throw new Error(`no user "${values.user}" in ${config.agentsFile}`);
    sub = user.userId;
    process.stderr.write(
      `user ${user.userId} (${user.role}${user.agentId ? `, agentId ${user.agentId}` : ''})\n`,
    );
  }

  if (config.auth.jwtSecrets.length === 0 && !config.auth.devBypass) {
    // A token signed with the development secret would be refused (alg_not_allowed) by a server
    // that only trusts asymmetric keys: say so instead of printing a useless token.
    throw new Error(
      'the server verifies tokens with AUTH_JWKS_URL / AUTH_PUBLIC_KEYS_FILE only; sign in through your identity provider, or set AUTH_JWT_SECRET for development',
    );
  }
  const secret = config.auth.jwtSecrets[0] ?? DEV_SECRET;
  process.stdout.write(`${await signDevToken(config.auth, secret, sub, values.expires!)}\n`);
}

main().catch((error: Error) => {
  process.stderr.write(`token: ${error.message}\n`);
  process.exit(1);
});
