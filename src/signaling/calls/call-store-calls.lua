-- RedisCallStore, calls: each operation of the port is one run of this script (atomic).
-- ARGV: key prefix, state TTL ms, operation, its arguments (a call's JSON, or a JSON object).
-- Keys (under the prefix):
--   call:<callId>                 the call's JSON, as the port gave it or re-encoded by cjson
--   calls                         zset callId -> insertion sequence (counts; the first of several)
--   agent-calls:<agentId>         zset callId -> insertion sequence
--   visitor-calls:<visitorId>     zset callId -> insertion sequence
--   call-token:<role>:<tokenHash> zset callId -> insertion sequence, the calls whose party holds it
-- An agent may hold a call while in a newer one: the lookups answer the oldest, like a scan in
-- insertion order would. Every key written gets the TTL again; a call's keys are all refreshed
-- when it is written. Replies: a call's JSON or nil (counts: requests, calls).
local P, TTL, OP = ARGV[1], ARGV[2], ARGV[3]

local function key(...)
  return P .. table.concat({ ... }, ':')
end

local CALLS = key('calls')

local function zadd(k, score, member)
  redis.call('ZADD', k, score, member)
  redis.call('PEXPIRE', k, TTL)
end

local function zrem(k, member)
  if redis.call('ZREM', k, member) == 1 then redis.call('PEXPIRE', k, TTL) end
end

local function tokenKey(role, tokenHash)
  return key('call-token', role, tokenHash)
end

-- The index keys of a call, each holding its id.
local function indexKeys(call)
  return {
    CALLS,
    key('agent-calls', call.agentId),
    key('visitor-calls', call.visitorId),
    tokenKey('agent', call.tokenHashes.agent),
    tokenKey('visitor', call.tokenHashes.visitor),
  }
end

-- The stored JSON and its decoded record, or nil.
local function load(callId)
  local raw = redis.call('GET', key('call', callId))
  if not raw then return nil end
  return raw, cjson.decode(raw)
end

local function seqOf(callId)
  return tonumber(redis.call('ZSCORE', CALLS, callId))
end

-- Writes the record and refreshes every key that indexes it.
local function save(call, raw)
  redis.call('SET', key('call', call.callId), raw, 'PX', TTL)
  for _, k in ipairs(indexKeys(call)) do redis.call('PEXPIRE', k, TTL) end
  return raw
end

local function saveEncoded(call)
  return save(call, cjson.encode(call))
end

local function remove(call)
  for _, k in ipairs(indexKeys(call)) do zrem(k, call.callId) end
  redis.call('DEL', key('call', call.callId))
end

-- The role's token becomes `tokenHash`, its index entry moved with it.
local function setToken(call, role, tokenHash)
  zrem(tokenKey(role, call.tokenHashes[role]), call.callId)
  call.tokenHashes[role] = tokenHash
  zadd(tokenKey(role, tokenHash), seqOf(call.callId), call.callId)
end

-- The oldest call of an index that still exists.
local function first(indexKey)
  for _, callId in ipairs(redis.call('ZRANGE', indexKey, 0, -1)) do
    local raw, call = load(callId)
    if raw then return raw, call end
  end
  return nil
end

local ops = {}

-- create(call JSON): stores it verbatim; the same id stored already is overwritten in place.
function ops.create(raw)
  local call = cjson.decode(raw)
  local seq = nil
  local _, existing = load(call.callId)
  if existing then
    seq = seqOf(call.callId)
    remove(existing)
  end
  if not seq then
    local last = redis.call('ZRANGE', CALLS, -1, -1, 'WITHSCORES')
    seq = last[2] and tonumber(last[2]) + 1 or 1
  end
  for _, k in ipairs(indexKeys(call)) do zadd(k, seq, call.callId) end
  return save(call, raw)
end

-- createClaiming(callJson, requestId, agentId): create(callJson) if the request rings the agent (the
-- requests script's claim follows in the same MULTI, under the same condition); the call or nil.
function ops.createClaiming(raw, requestId, agentId)
  local request = redis.call('GET', key('request', requestId))
  if not request or cjson.decode(request).agentId ~= agentId then return nil end
  return ops.create(raw)
end

-- ofAgent({ agentId })
function ops.ofAgent(json)
  local raw = first(key('agent-calls', cjson.decode(json).agentId))
  return raw
end

-- ofVisitor({ visitorId })
function ops.ofVisitor(json)
  local raw = first(key('visitor-calls', cjson.decode(json).visitorId))
  return raw
end

-- endCall({ callId, ifDisconnected? = { role, at } }): removes it, once.
function ops.endCall(json)
  local args = cjson.decode(json)
  local raw, call = load(args.callId)
  if not raw then return nil end
  local only = args.ifDisconnected
  if only and call.disconnectedAt[only.role] ~= only.at then return nil end
  remove(call)
  return raw
end

-- setDisconnected({ callId, role, at, ifUnchanged? = { tokenHash, agentSocketId } }): at null is
-- back; a lost agent side forgets its socket. With ifUnchanged, nothing changes (nil) when the
-- party's token or (agent) the call's socket is no longer what the caller read.
function ops.setDisconnected(json)
  local args = cjson.decode(json)
  local _, call = load(args.callId)
  if not call then return nil end
  local expected = args.ifUnchanged
  if expected ~= nil then
    if call.tokenHashes[args.role] ~= expected.tokenHash then return nil end
    if args.role == 'agent' and call.agentSocketId ~= expected.agentSocketId then return nil end
  end
  call.disconnectedAt[args.role] = args.at
  if args.role == 'agent' and args.at ~= cjson.null then call.agentSocketId = cjson.null end
  return saveEncoded(call)
end

-- spend({ tokenHash, role, next = { agent, visitor }, agentId?, agentSocketId? }): single use.
function ops.spend(json)
  local args = cjson.decode(json)
  local role = args.role
  local raw, call = first(tokenKey(role, args.tokenHash))
  if not raw or call.tokenHashes[role] ~= args.tokenHash then return nil end
  if args.agentId ~= nil and call.agentId ~= args.agentId then return nil end
  local peer = role == 'agent' and 'visitor' or 'agent'
  setToken(call, role, args.next[role])
  if call.disconnectedAt[peer] == cjson.null then setToken(call, peer, args.next[peer]) end
  call.disconnectedAt[role] = cjson.null
  if role == 'agent' and args.agentSocketId ~= nil then call.agentSocketId = args.agentSocketId end
  return saveEncoded(call)
end

-- reattach({ callId, nextVisitorHash }): only a held agent side.
function ops.reattach(json)
  local args = cjson.decode(json)
  local _, call = load(args.callId)
  if not call or call.disconnectedAt.agent == cjson.null then return nil end
  call.disconnectedAt.agent = cjson.null
  call.agentSocketId = cjson.null
  if call.disconnectedAt.visitor == cjson.null then setToken(call, 'visitor', args.nextVisitorHash) end
  return saveEncoded(call)
end

-- bind({ callId, agentSocketId }): the first socket of a connected agent side no socket carries.
function ops.bind(json)
  local args = cjson.decode(json)
  local raw, call = load(args.callId)
  if not raw then return nil end
  if call.agentSocketId ~= cjson.null or call.disconnectedAt.agent ~= cjson.null then return raw end
  call.agentSocketId = args.agentSocketId
  return saveEncoded(call)
end

-- touch({ callId, now })
function ops.touch(json)
  local args = cjson.decode(json)
  local _, call = load(args.callId)
  if not call then return nil end
  call.lastHeartbeatAt = args.now
  saveEncoded(call)
  return nil
end

-- counts(): { requests, calls }
function ops.counts()
  return { redis.call('ZCARD', key('requests')), redis.call('ZCARD', CALLS) }
end

local op = ops[OP]
if not op then return redis.error_reply('unknown operation ' .. tostring(OP)) end
return op(unpack(ARGV, 4))
