-- Visitor sessions and agents' loads (RedisVisitorStore): every conditional operation of the store
-- is one run of this script, so a record and its indexes always change together. No KEYS: the keys
-- are built from the prefix. ARGV: key prefix, key TTL ms, operation, JSON array of its arguments.
--
--   <prefix>visitor:<visitorId>          the session, JSON
--   <prefix>visitors                     zset visitorId -> registration rank (count; tie order)
--   <prefix>visitors-waiting:<orgId>     zset entry -> connectedAt: connected sessions without agent
--   <prefix>agent-visitors:<agentId>     zset entry -> connectedAt: the agent's visitors (its load)
--   <prefix>agent-assigned-at:<agentId>  when a visitor was last assigned to the agent (ms)
--   <prefix>visitor-pools:<orgId>        hash poolId -> sessions
--
-- An entry is the registration rank (16 digits) and the visitor id, so that sessions connected in
-- the same millisecond keep their registration order, as the in-memory store's stable sort does.
-- Numbers round-trip exactly up to 14 significant digits (cjson and Lua's number formatting):
-- integer epoch ms until the year 5138.
local prefix, ttl, op = ARGV[1], tonumber(ARGV[2]), ARGV[3]
local args = cjson.decode(ARGV[4])
local null = cjson.null
local RANK_DIGITS = 16

local function key(...)
  return prefix .. table.concat({ ... }, ':')
end

local ALL = key('visitors')

local function keep(k)
  redis.call('PEXPIRE', k, ttl)
end

local function load(visitorId)
  local raw = redis.call('GET', key('visitor', visitorId))
  if raw then return cjson.decode(raw), raw end
  return nil
end

-- The session's entry in the waiting and agent indexes (it is ranked at registration).
local function entry(v)
  local rank = tonumber(redis.call('ZSCORE', ALL, v.visitorId))
  return string.format('%0' .. RANK_DIGITS .. 'd:%s', rank, v.visitorId)
end

-- Routing's order of two candidates (selectAgent): rank, visitors, last assigned (nil = never,
-- first), agent id.
local function before(a, b)
  if a.rank ~= b.rank then return a.rank < b.rank end
  if a.visitors ~= b.visitors then return a.visitors < b.visitors end
  if a.at ~= b.at then
    if a.at == nil then return true end
    if b.at == nil then return false end
    return a.at < b.at
  end
  return a.agentId < b.agentId
end

-- Writes the session and its waiting entry; returns its JSON.
local function save(v)
  local raw = cjson.encode(v)
  redis.call('SET', key('visitor', v.visitorId), raw, 'PX', ttl)
  if not redis.call('ZSCORE', ALL, v.visitorId) then
    local last = redis.call('ZRANGE', ALL, -1, -1, 'WITHSCORES')
    local rank = 1
    if last[2] then rank = tonumber(last[2]) + 1 end
    redis.call('ZADD', ALL, rank, v.visitorId)
  end
  keep(ALL)
  local waiting = key('visitors-waiting', v.orgId)
  if v.agentId == null and v.socketId ~= null then
    redis.call('ZADD', waiting, v.connectedAt, entry(v))
    keep(waiting)
  else
    redis.call('ZREM', waiting, entry(v))
  end
  if v.agentId ~= null then keep(key('agent-visitors', v.agentId)) end
  if v.poolId ~= null then keep(key('visitor-pools', v.orgId)) end
  return raw
end

local function countPool(v, delta)
  if v.poolId == null then return end
  local pools = key('visitor-pools', v.orgId)
  if redis.call('HINCRBY', pools, v.poolId, delta) <= 0 then redis.call('HDEL', pools, v.poolId) end
  keep(pools)
end

-- The sessions of an index, in its order, that still match; an entry whose record expired is skipped.
local function records(k, matches)
  local found = {}
  for _, member in ipairs(redis.call('ZRANGE', k, 0, -1)) do
    local v, raw = load(string.sub(member, RANK_DIGITS + 2))
    if v and matches(v) then table.insert(found, raw) end
  end
  return found
end

local ops = {}

-- args: input (RegisterVisitorInput). Returns the session's JSON.
function ops.register(input)
  local visitorId = input.freshId
  local preferred = input.preferredId
  if preferred ~= nil and preferred ~= null and redis.call('EXISTS', key('visitor', preferred)) == 0 then
    visitorId = preferred
  end
  local v = {
    visitorId = visitorId,
    orgId = input.orgId,
    poolId = input.poolId,
    pageUrl = input.pageUrl,
    socketId = input.socketId,
    connectedAt = input.now,
    lastActivityAt = input.now,
    agentId = null,
  }
  local raw = save(v)
  countPool(v, 1)
  return raw
end

function ops.remove(visitorId, socketId)
  local v, raw = load(visitorId)
  if not v or v.socketId ~= socketId then return false end
  local member = entry(v)
  redis.call('DEL', key('visitor', visitorId))
  redis.call('ZREM', key('visitors-waiting', v.orgId), member)
  if v.agentId ~= null then redis.call('ZREM', key('agent-visitors', v.agentId), member) end
  redis.call('ZREM', ALL, visitorId)
  countPool(v, -1)
  return raw
end

function ops.setSocket(visitorId, socketId)
  local v = load(visitorId)
  if not v then return false end
  v.socketId = socketId
  return save(v)
end

-- hold(visitorId, socketId): no socket, only if socketId still holds the session.
function ops.hold(visitorId, socketId)
  local v = load(visitorId)
  if not v or v.socketId ~= socketId then return false end
  v.socketId = null
  return save(v)
end

-- capacity null: no limit. Returns { visitor, previousAgentId } as JSON, or nil.
function ops.assign(visitorId, agentId, expectedAgentId, capacity, now)
  local v = load(visitorId)
  if not v or v.agentId ~= expectedAgentId then return false end
  if agentId == v.agentId then return cjson.encode({ visitor = v, previousAgentId = v.agentId }) end
  if agentId ~= null and capacity ~= null then
    if redis.call('ZCARD', key('agent-visitors', agentId)) >= capacity then return false end
  end
  local previous = v.agentId
  local member = entry(v)
  if previous ~= null then redis.call('ZREM', key('agent-visitors', previous), member) end
  if agentId ~= null then
    redis.call('ZADD', key('agent-visitors', agentId), v.connectedAt, member)
    redis.call('SET', key('agent-assigned-at', agentId), now, 'PX', ttl)
  end
  v.agentId = agentId
  save(v)
  return cjson.encode({ visitor = v, previousAgentId = previous })
end

-- assignBest(visitorId, candidates = [{ agentId, rank }], expectedAgentId, capacity, now): the
-- candidate routing's selectAgent would choose on these loads — lowest rank under capacity, then
-- fewest visitors, then least recently assigned (never first), then agent id — assigned as
-- `assign` does, in the same step; none under capacity leaves the visitor waiting.
function ops.assignBest(visitorId, candidates, expectedAgentId, capacity, now)
  local best = nil
  for _, candidate in ipairs(candidates) do
    local visitors = redis.call('ZCARD', key('agent-visitors', candidate.agentId))
    if capacity == null or visitors < capacity then
      local raw = redis.call('GET', key('agent-assigned-at', candidate.agentId))
      local at = raw and tonumber(raw) or nil
      local this = { agentId = candidate.agentId, rank = candidate.rank, visitors = visitors, at = at }
      if best == nil or before(this, best) then best = this end
    end
  end
  return ops.assign(visitorId, best and best.agentId or null, expectedAgentId, capacity, now)
end

function ops.assignedTo(agentId)
  return records(key('agent-visitors', agentId), function(v) return v.agentId == agentId end)
end

function ops.waiting(orgId)
  return records(key('visitors-waiting', orgId), function(v)
    return v.orgId == orgId and v.agentId == null and v.socketId ~= null
  end)
end

-- Returns a flat list: visitors, lastAssignedAt (nil: never), for each agent asked.
function ops.loads(agentIds)
  local result = {}
  for _, agentId in ipairs(agentIds) do
    table.insert(result, redis.call('ZCARD', key('agent-visitors', agentId)))
    table.insert(result, redis.call('GET', key('agent-assigned-at', agentId)))
  end
  return result
end

function ops.touch(visitorId, now)
  local v = load(visitorId)
  if v then
    v.lastActivityAt = now
    save(v)
  end
  return false
end

local operation = ops[op]
if not operation then return redis.error_reply('unknown visitor operation ' .. tostring(op)) end
return operation(unpack(args))
