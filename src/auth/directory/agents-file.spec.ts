import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AgentsFileError, loadAgentsFile, parseAgentsFile } from './agents-file';

const EXAMPLE = join(__dirname, '../../../config/agents.example.json');

/* eslint-disable @typescript-eslint/no-explicit-any -- the tests build deliberately malformed files */

/** A small valid file; each test breaks one thing. */
function validFile(): any {
  return {
    organizations: [
      {
        id: 'org_a',
        name: 'A',
        pools: [
          { id: 'pool_a1', name: 'One', isDefault: true, rules: [] },
          { id: 'pool_a2', name: 'Two', rules: [{ pathPattern: '/support/*', priority: 1 }] },
        ],
      },
      { id: 'org_b', name: 'B', pools: [{ id: 'pool_b1', name: 'One', rules: [] }] },
    ],
    users: [
      {
        userId: 'u-1',
        agentId: 'agent_one',
        orgId: 'org_a',
        role: 'agent',
        displayName: 'One',
        pools: [{ poolId: 'pool_a1', priorityRank: 1 }],
      },
      { userId: 'u-2', orgId: 'org_a', role: 'admin', displayName: 'Admin' },
      { userId: 'u-3', role: 'platform_admin', displayName: 'Root' },
    ],
  };
}

function problemsOf(json: unknown): string[] {
  try {
    parseAgentsFile(json, 'test.json');
  } catch (error) {
    expect(error).toBeInstanceOf(AgentsFileError);
    return (error as AgentsFileError).problems;
  }
  throw new Error('expected the file to be refused');
}

function withChange(change: (file: any) => void): string[] {
  const file = validFile();
  change(file);
  return problemsOf(file);
}

describe('parseAgentsFile', () => {
  it('accepts the shipped example', () => {
    const snapshot = loadAgentsFile(EXAMPLE);
    expect(snapshot.organizations.map((o) => o.id)).toEqual(['org_acme', 'org_globex', 'org_paused']);
    expect(snapshot.organizations.find((o) => o.id === 'org_paused')).toMatchObject({
      status: 'paused',
      rnaTimeoutSeconds: 15,
      maxCallDurationMinutes: 120,
      widgetSettings: {},
    });
    const roles = new Set(snapshot.users.map((u) => u.role));
    expect(roles).toEqual(new Set(['agent', 'auditor', 'admin', 'platform_admin']));
    expect(snapshot.users.some((u) => u.role === 'agent' && !u.active)).toBe(true);
  });

  it('applies the defaults of PROTOCOL §5', () => {
    const snapshot = parseAgentsFile(validFile(), 'test.json');
    expect(snapshot.organizations[0]).toEqual({
      id: 'org_a',
      name: 'A',
      status: 'active',
      rnaTimeoutSeconds: 15,
      maxCallDurationMinutes: 120,
      widgetSettings: {},
      pools: [
        { id: 'pool_a1', orgId: 'org_a', name: 'One', isDefault: true, rules: [], widgetSettings: {} },
        {
          id: 'pool_a2',
          orgId: 'org_a',
          name: 'Two',
          isDefault: false,
          rules: [{ pathPattern: '/support/*', domainPattern: '*', priority: 1 }],
          widgetSettings: {},
        },
      ],
    });
    expect(snapshot.users[1]).toEqual({
      userId: 'u-2',
      agentId: null,
      orgId: 'org_a',
      role: 'admin',
      displayName: 'Admin',
      avatarUrl: null,
      waveVideoUrl: null,
      introVideoUrl: null,
      connectVideoUrl: null,
      loopVideoUrl: null,
      active: true,
      pools: [],
    });
    expect(snapshot.users[2].orgId).toBeNull();
  });

  it('keeps widget settings of organisations and pools, and media URLs, as given, null included', () => {
    const file = validFile();
    file.organizations[0].widgetSettings = {
      position: 'bottom-left',
      trigger_delay: 0,
      auto_hide_delay: null,
      cobrowse_enabled: false,
    };
    file.organizations[0].pools[1].widgetSettings = { theme: 'liquid-glass', auto_hide_delay: 30 };
    Object.assign(file.users[0], {
      avatarUrl: null,
      loopVideoUrl: 'https://cdn.example/loop.mp4',
      active: false,
    });
    const snapshot = parseAgentsFile(file, 'test.json');
    expect(snapshot.organizations[0].widgetSettings).toEqual({
      position: 'bottom-left',
      trigger_delay: 0,
      auto_hide_delay: null,
      cobrowse_enabled: false,
    });
    expect(snapshot.organizations[0].pools[0].widgetSettings).toEqual({});
    expect(snapshot.organizations[0].pools[1].widgetSettings).toEqual({
      theme: 'liquid-glass',
      auto_hide_delay: 30,
    });
    expect(snapshot.users[0]).toMatchObject({
      avatarUrl: null,
      loopVideoUrl: 'https://cdn.example/loop.mp4',
      active: false,
    });
  });

  describe('refuses, naming the entry', () => {
    const cases: Array<[string, (file: any) => void, string]> = [
      ['an unknown top-level field', (f) => (f.version = 2), 'version: unknown field'],
      ['a missing users list', (f) => delete f.users, 'users: must be an array'],
      [
        'an unknown organisation field',
        (f) => (f.organizations[1].colour = 'red'),
        'organizations[1] (id "org_b").colour: unknown field',
      ],
      [
        'an unknown pool field',
        (f) => (f.organizations[0].pools[1].weight = 1),
        'organizations[0].pools[1] (id "pool_a2").weight: unknown field',
      ],
      [
        'an unknown rule field',
        (f) => (f.organizations[0].pools[1].rules[0].when = 'always'),
        'organizations[0].pools[1].rules[0].when: unknown field',
      ],
      [
        'an unknown user field',
        (f) => (f.users[0].user_metadata = {}),
        'users[0] (userId "u-1").user_metadata: unknown field',
      ],
      [
        'a javascript: media URL',
        (f) => (f.users[0].avatarUrl = 'javascript:alert(1)'),
        'users[0] (userId "u-1").avatarUrl: must be an absolute http(s) URL',
      ],
      [
        'a data: media URL',
        (f) => (f.users[0].loopVideoUrl = 'data:video/mp4;base64,AAAA'),
        'users[0] (userId "u-1").loopVideoUrl: must be an absolute http(s) URL',
      ],
      [
        'an unknown membership field',
        (f) => (f.users[0].pools[0].weight = 1),
        'users[0].pools[0].weight: unknown field',
      ],
      ['an entry that is not an object', (f) => f.users.push('u-9'), 'users[3]: must be an object'],
      [
        'an unknown organisation status',
        (f) => (f.organizations[0].status = 'closed'),
        'organizations[0] (id "org_a").status: must be one of the following values: active, paused',
      ],
      [
        'a null organisation status',
        (f) => (f.organizations[0].status = null),
        'organizations[0] (id "org_a").status: must be one of',
      ],
      [
        'rnaTimeoutSeconds below 1',
        (f) => (f.organizations[0].rnaTimeoutSeconds = 0),
        'organizations[0] (id "org_a").rnaTimeoutSeconds: must not be less than 1',
      ],
      [
        'rnaTimeoutSeconds above 300',
        (f) => (f.organizations[0].rnaTimeoutSeconds = 301),
        'organizations[0] (id "org_a").rnaTimeoutSeconds: must not be greater than 300',
      ],
      [
        'a fractional rnaTimeoutSeconds',
        (f) => (f.organizations[0].rnaTimeoutSeconds = 1.5),
        'organizations[0] (id "org_a").rnaTimeoutSeconds: must be an integer',
      ],
      [
        'maxCallDurationMinutes above 1440',
        (f) => (f.organizations[0].maxCallDurationMinutes = 1441),
        'organizations[0] (id "org_a").maxCallDurationMinutes: must not be greater than 1440',
      ],
      [
        'maxCallDurationMinutes given as a string',
        (f) => (f.organizations[0].maxCallDurationMinutes = '120'),
        'organizations[0] (id "org_a").maxCallDurationMinutes: must be an integer',
      ],
      [
        'widgetSettings that are not an object',
        (f) => (f.organizations[0].widgetSettings = ['bottom-right']),
        'organizations[0] (id "org_a").widgetSettings: must be an object',
      ],
      [
        'a widget setting the widget does not read',
        (f) => (f.organizations[0].widgetSettings = { greeting: 'Hi' }),
        'organizations[0].widgetSettings.greeting: unknown field',
      ],
      [
        'a widget setting spelled in camelCase',
        (f) => (f.organizations[0].widgetSettings = { triggerDelaySeconds: 3 }),
        'organizations[0].widgetSettings.triggerDelaySeconds: unknown field (the widget reads "trigger_delay")',
      ],
      [
        'a widget size the widget does not know',
        (f) => (f.organizations[0].widgetSettings = { size: 'huge' }),
        'organizations[0].widgetSettings.size: must be one of the following values: small, medium, large',
      ],
      [
        'a negative trigger_delay',
        (f) => (f.organizations[0].widgetSettings = { trigger_delay: -1 }),
        'organizations[0].widgetSettings.trigger_delay: must not be less than 0',
      ],
      [
        'a trigger_delay given as a string',
        (f) => (f.organizations[0].widgetSettings = { trigger_delay: '3' }),
        'organizations[0].widgetSettings.trigger_delay: must be a number (seconds)',
      ],
      [
        'a non-boolean cobrowse_enabled in a pool',
        (f) => (f.organizations[0].pools[0].widgetSettings = { cobrowse_enabled: 'yes' }),
        'organizations[0].pools[0].widgetSettings.cobrowse_enabled: must be a boolean value',
      ],
      [
        'pool widget settings that are not an object',
        (f) => (f.organizations[0].pools[0].widgetSettings = 'dark'),
        'organizations[0].pools[0] (id "pool_a1").widgetSettings: must be an object',
      ],
      [
        'a non-boolean isDefault',
        (f) => (f.organizations[0].pools[0].isDefault = 'yes'),
        'organizations[0].pools[0] (id "pool_a1").isDefault: must be a boolean value',
      ],
      [
        'a pool without a name',
        (f) => delete f.organizations[0].pools[0].name,
        'organizations[0].pools[0] (id "pool_a1").name: must be a string',
      ],
      [
        'a fractional rule priority',
        (f) => (f.organizations[0].pools[1].rules[0].priority = 2.5),
        'organizations[0].pools[1].rules[0].priority: must be an integer',
      ],
      [
        'a rule without a path pattern',
        (f) => delete f.organizations[0].pools[1].rules[0].pathPattern,
        'organizations[0].pools[1].rules[0].pathPattern: must be a string',
      ],
      [
        'an id with a space',
        (f) => (f.users[0].agentId = 'agent one'),
        'users[0] (userId "u-1").agentId: must be 1-128 characters of [A-Za-z0-9._:-]',
      ],
      [
        'an id longer than 128 characters',
        (f) => (f.organizations[1].id = 'o'.repeat(129)),
        `organizations[1] (id "${'o'.repeat(129)}").id: must be 1-128 characters of [A-Za-z0-9._:-]`,
      ],
      [
        'an unknown role',
        (f) => (f.users[1].role = 'owner'),
        'users[1] (userId "u-2").role: must be one of the following values: agent, auditor, admin, platform_admin',
      ],
      [
        'a user without a display name',
        (f) => delete f.users[1].displayName,
        'users[1] (userId "u-2").displayName',
      ],
      [
        'a media URL that is not a string',
        (f) => (f.users[0].introVideoUrl = 42),
        'users[0] (userId "u-1").introVideoUrl: must be a string',
      ],
      [
        'a non-boolean active',
        (f) => (f.users[0].active = 'no'),
        'users[0] (userId "u-1").active: must be a boolean value',
      ],
      [
        'a priority rank below 1',
        (f) => (f.users[0].pools[0].priorityRank = 0),
        'users[0].pools[0].priorityRank: must not be less than 1',
      ],
      [
        'an agent without an agentId',
        (f) => delete f.users[0].agentId,
        'users[0] (userId "u-1"): agentId is required for role "agent"',
      ],
      [
        'an admin without an orgId',
        (f) => delete f.users[1].orgId,
        'users[1] (userId "u-2"): orgId is required for role "admin"',
      ],
      [
        'an auditor without an orgId',
        (f) => f.users.push({ userId: 'u-4', role: 'auditor', displayName: 'Aud' }),
        'users[3] (userId "u-4"): orgId is required for role "auditor"',
      ],
      [
        'a duplicate organisation id',
        (f) => f.organizations.push({ id: 'org_a', name: 'Again' }),
        'organizations[2] (id "org_a"): duplicate organization id "org_a"',
      ],
      [
        'a pool id used twice (even in another organisation)',
        (f) => (f.organizations[1].pools[0].id = 'pool_a2'),
        'organizations[1].pools[0] (id "pool_a2"): duplicate pool id "pool_a2"',
      ],
      [
        'a duplicate userId',
        (f) => (f.users[2].userId = 'u-1'),
        'users[2] (userId "u-1"): duplicate userId "u-1"',
      ],
      [
        'a duplicate agentId',
        (f) => (f.users[1].agentId = 'agent_one'),
        'users[1] (userId "u-2"): duplicate agentId "agent_one"',
      ],
      [
        'an orgId that does not exist',
        (f) => (f.users[1].orgId = 'org_nope'),
        'users[1] (userId "u-2"): orgId "org_nope" does not exist',
      ],
      [
        'a membership of a pool that does not exist',
        (f) => (f.users[0].pools[0].poolId = 'pool_nope'),
        'users[0] (userId "u-1").pools[0]: poolId "pool_nope" does not exist',
      ],
      [
        "a membership of another organisation's pool",
        (f) => (f.users[0].pools[0].poolId = 'pool_b1'),
        'users[0] (userId "u-1").pools[0]: pool "pool_b1" belongs to organization "org_b"',
      ],
      [
        'a pool listed twice for one user',
        (f) => f.users[0].pools.push({ poolId: 'pool_a1', priorityRank: 2 }),
        'users[0] (userId "u-1").pools[1]: pool "pool_a1" is listed twice',
      ],
      [
        'two default pools in one organisation',
        (f) => (f.organizations[0].pools[1].isDefault = true),
        'organizations[0] (id "org_a"): 2 default pools (at most one is allowed)',
      ],
    ];

    it.each(cases)('%s', (_name, change, expected) => {
      const problems = withChange(change);
      expect(problems).toEqual([expect.stringContaining(expected)]);
    });

    it.each([[[]], ['text'], [null]])('a file holding %j instead of an object', (json) => {
      expect(problemsOf(json)).toEqual(['must be a JSON object with "organizations" and "users" arrays']);
    });
  });

  it('accepts a platform admin without an orgId and a pool without rules', () => {
    const file = validFile();
    delete file.organizations[1].pools[0].rules;
    expect(() => parseAgentsFile(file, 'test.json')).not.toThrow();
  });

  it('reports every problem at once, field errors and cross-checks together', () => {
    const file = validFile();
    file.organizations[0].rnaTimeoutSeconds = 0;
    file.organizations[1].pools[0].rules = [{ pathPattern: '/x', priority: 'high' }];
    file.users[0].role = 'superuser';
    file.users[1].orgId = 'org_nope';
    file.users.push({ userId: 'u-1', role: 'agent', orgId: 'org_b', displayName: 'Twin' });

    let error: AgentsFileError | undefined;
    try {
      parseAgentsFile(file, 'agents.json');
    } catch (e) {
      error = e as AgentsFileError;
    }
    expect(error).toBeInstanceOf(AgentsFileError);
    expect(error!.problems).toEqual([
      'organizations[0] (id "org_a").rnaTimeoutSeconds: must not be less than 1',
      'organizations[1].pools[0].rules[0].priority: must be an integer',
      'users[0] (userId "u-1").role: must be one of the following values: agent, auditor, admin, platform_admin',
      'users[1] (userId "u-2"): orgId "org_nope" does not exist',
      'users[3] (userId "u-1"): duplicate userId "u-1"',
      'users[3] (userId "u-1"): agentId is required for role "agent"',
    ]);
    const lines = error!.message.split('\n');
    expect(lines[0]).toBe('Invalid agents file agents.json:');
    expect(lines).toHaveLength(1 + error!.problems.length);
  });
});

describe('loadAgentsFile', () => {
  let dir: string;
  beforeAll(() => (dir = mkdtempSync(join(tmpdir(), 'agents-file-'))));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('names the path of a missing file', () => {
    const path = join(dir, 'missing.json');
    expect(() => loadAgentsFile(path)).toThrow(AgentsFileError);
    expect(() => loadAgentsFile(path)).toThrow(`Invalid agents file ${path}:`);
    expect(() => loadAgentsFile(path)).toThrow(/cannot be read/);
  });

  it('names the path of a file that is not JSON', () => {
    const path = join(dir, 'broken.json');
    writeFileSync(path, '{ "organizations": [ ');
    expect(() => loadAgentsFile(path)).toThrow(`Invalid agents file ${path}:`);
    expect(() => loadAgentsFile(path)).toThrow(/is not valid JSON/);
  });

  it('names the path of a file with invalid entries', () => {
    const path = join(dir, 'invalid.json');
    writeFileSync(path, JSON.stringify({ organizations: [], users: [{ userId: 'u', role: 'agent' }] }));
    expect(() => loadAgentsFile(path)).toThrow(`Invalid agents file ${path}:`);
  });

  it('loads a valid file', () => {
    const path = join(dir, 'valid.json');
    writeFileSync(path, JSON.stringify(validFile()));
    expect(loadAgentsFile(path).users).toHaveLength(3);
  });
});
