import { readFileSync } from 'node:fs';
import { AGENTS_FILE } from './app';

interface FileUser {
  userId: string;
  agentId?: string;
  orgId?: string;
  role: string;
  displayName: string;
  active?: boolean;
}
interface FileOrg {
  id: string;
  status?: string;
}

const file = JSON.parse(readFileSync(AGENTS_FILE, 'utf8')) as { organizations: FileOrg[]; users: FileUser[] };

function pick(predicate: (user: FileUser) => boolean, what: string): FileUser {
  const user = file.users.find(predicate);
  if (!user) throw new Error(`config/agents.example.json has no ${what}`);
  return user;
}

const paused = new Set(file.organizations.filter((o) => o.status === 'paused').map((o) => o.id));
const activeAgent = (u: FileUser): boolean =>
  u.role === 'agent' && u.active !== false && !!u.agentId && !paused.has(u.orgId ?? '');

/** Users of the shipped example directory, chosen by what they are rather than by name. */
export const fixtures = {
  agent: pick(activeAgent, 'active agent') as Required<FileUser>,
  otherAgent: pick(
    (u) => activeAgent(u) && u.userId !== file.users.find(activeAgent)!.userId,
    'second active agent',
  ) as Required<FileUser>,
  disabledAgent: pick(
    (u) => u.role === 'agent' && u.active === false,
    'disabled agent',
  ) as Required<FileUser>,
  pausedAgent: pick(
    (u) => u.role === 'agent' && u.active !== false && paused.has(u.orgId ?? ''),
    'agent of a paused organisation',
  ) as Required<FileUser>,
  auditor: pick((u) => u.role === 'auditor', 'auditor'),
  admin: pick((u) => u.role === 'admin', 'admin'),
  platformAdmin: pick((u) => u.role === 'platform_admin', 'platform admin'),
};
