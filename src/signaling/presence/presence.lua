-- Presence state (RedisPresenceStore): every operation of the store is one run of this script, so
-- a record and its indexes always change together. No KEYS: the keys are built from the prefix.
-- ARGV: key prefix, key TTL ms, operation, JSON array of the operation's arguments.
--
--   <prefix>presence:<agentId>      the presence, JSON
--   <prefix>presences               zset agentId -> creation rank (list order)
--   <prefix>presence-org:<orgId>    zset agentId -> rank within the organisation (creation order)
--   <prefix>presence-idle           zset agentId -> lastActivityAt of idle connected presences
--
-- A record replaced by a new presence (attach after the grace) keeps its ranks, as an entry of a
-- JavaScript Map keeps its place when it is set again. Numbers round-trip exactly up to 14
-- significant digits (cjson and Lua's number formatting): integer epoch ms until the year 5138.
local prefix, ttl, op = ARGV[1], tonumber(ARGV[2]), ARGV[3]
local args = cjson.decode(ARGV[4])
local null = cjson.null

local function key(...)
  return prefix .. table.concat({ ... }, ':')
end

local ALL, IDLE = key('presences'), key('presence-idle')

local function keep(k)
  redis.call('PEXPIRE', k, ttl)
end

local function load(agentId)
  local raw = redis.call('GET', key('presence', agentId))
  if raw then return cjson.decode(raw) end
  return nil
end

-- Adds member to a creation-ordered zset unless it is there: last, with the next rank.
local function rank(k, member)
  if not redis.call('ZSCORE', k, member) then
    local last = redis.call('ZRANGE', k, -1, -1, 'WITHSCORES')
    local following = 1
    if last[2] then following = tonumber(last[2]) + 1 end
    redis.call('ZADD', k, following, member)
  end
  keep(k)
end

-- Writes the presence and its index entries; returns its JSON.
local function save(p)
  local raw = cjson.encode(p)
  redis.call('SET', key('presence', p.agentId), raw, 'PX', ttl)
  rank(ALL, p.agentId)
  rank(key('presence-org', p.orgId), p.agentId)
  if p.status == 'idle' and p.disconnectedAt == null then
    redis.call('ZADD', IDLE, p.lastActivityAt, p.agentId)
    keep(IDLE)
  else
    redis.call('ZREM', IDLE, p.agentId)
  end
  return raw
end

local function unindex(agentId, orgId)
  redis.call('ZREM', ALL, agentId)
  redis.call('ZREM', key('presence-org', orgId), agentId)
  redis.call('ZREM', IDLE, agentId)
end

local function drop(p)
  redis.call('DEL', key('presence', p.agentId))
  unindex(p.agentId, p.orgId)
  return cjson.encode(p)
end

local function contains(list, value)
  for _, item in ipairs(list) do
    if item == value then return true end
  end
  return false
end

-- The records of an index, in its order; an entry whose record expired is skipped.
local function records(k)
  local found = {}
  for _, agentId in ipairs(redis.call('ZRANGE', k, 0, -1)) do
    local raw = redis.call('GET', key('presence', agentId))
    if raw then table.insert(found, raw) end
  end
  return found
end

local ops = {}

-- args: input (AttachInput). Returns { presence JSON, 1 if resumed else 0 }.
function ops.attach(input)
  local p = load(input.agentId)
  if p and p.disconnectedAt == null then
    if not contains(p.socketIds, input.socketId) then table.insert(p.socketIds, input.socketId) end
    p.lastActivityAt = input.now
    p.profile = input.profile
    p.pools = input.pools
    return { save(p), 0 }
  end
  if p and p.disconnectedAt >= input.resumeSince then
    p.socketIds = { input.socketId }
    p.disconnectedAt = null
    p.lastActivityAt = input.now
    p.profile = input.profile
    p.pools = input.pools
    return { save(p), 1 }
  end
  if p and p.orgId ~= input.orgId then redis.call('ZREM', key('presence-org', p.orgId), p.agentId) end
  local created = {
    agentId = input.agentId,
    userId = input.userId,
    orgId = input.orgId,
    profile = input.profile,
    pools = input.pools,
    status = 'away',
    socketIds = { input.socketId },
    currentCallVisitorId = null,
    connectedAt = input.now,
    lastActivityAt = input.now,
    disconnectedAt = null,
  }
  return { save(created), 0 }
end

function ops.detach(agentId, socketId, now)
  local p = load(agentId)
  if not p then return false end
  local remaining = {}
  for _, id in ipairs(p.socketIds) do
    if id ~= socketId then table.insert(remaining, id) end
  end
  p.socketIds = remaining
  if #remaining == 0 and p.disconnectedAt == null then p.disconnectedAt = now end
  return save(p)
end

function ops.expireIfDisconnectedSince(agentId, disconnectedAt)
  local p = load(agentId)
  if not p or p.disconnectedAt ~= disconnectedAt then return false end
  return drop(p)
end

function ops.remove(agentId)
  local p = load(agentId)
  if not p then return false end
  return drop(p)
end

function ops.setStatus(agentId, status, now, unlessIn)
  local p = load(agentId)
  if not p then return false end
  if not contains(unlessIn, p.status) then p.status = status end
  p.lastActivityAt = now
  return save(p)
end

function ops.enterCall(agentId, visitorId, now)
  local p = load(agentId)
  if not p or p.status ~= 'idle' then return false end
  p.status = 'in_call'
  p.currentCallVisitorId = visitorId
  p.lastActivityAt = now
  return save(p)
end

function ops.resumeCall(agentId, visitorId, now)
  local p = load(agentId)
  if not p or (p.status == 'in_call' and p.currentCallVisitorId ~= visitorId) then return false end
  p.status = 'in_call'
  p.currentCallVisitorId = visitorId
  p.lastActivityAt = now
  return save(p)
end

function ops.leaveCall(agentId, now)
  local p = load(agentId)
  if not p or p.status ~= 'in_call' then return false end
  p.status = 'idle'
  p.currentCallVisitorId = null
  p.lastActivityAt = now
  return save(p)
end

function ops.touch(agentId, now)
  local p = load(agentId)
  if p then
    p.lastActivityAt = now
    save(p)
  end
  return false
end

function ops.list()
  return records(ALL)
end

function ops.inOrg(orgId)
  return records(key('presence-org', orgId))
end

-- Idle connected presences silent since before cutoff go away; returned in list order.
function ops.markStale(cutoff, now)
  local marked = {}
  for _, agentId in ipairs(redis.call('ZRANGEBYSCORE', IDLE, '-inf', '(' .. cutoff)) do
    local p = load(agentId)
    if not p then
      redis.call('ZREM', IDLE, agentId)
    elseif p.status == 'idle' and p.disconnectedAt == null and p.lastActivityAt < cutoff then
      p.status = 'away'
      p.lastActivityAt = now
      table.insert(marked, { tonumber(redis.call('ZSCORE', ALL, agentId)), save(p) })
    end
  end
  table.sort(marked, function(a, b) return a[1] < b[1] end)
  local result = {}
  for i, entry in ipairs(marked) do result[i] = entry[2] end
  return result
end

local operation = ops[op]
if not operation then return redis.error_reply('unknown presence operation ' .. tostring(op)) end
return operation(unpack(args))
