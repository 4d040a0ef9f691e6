-- RedisCallStore, call requests: each operation of the port is one run of this script (atomic).
-- ARGV: key prefix, state TTL ms, operation, its arguments (below).
-- Keys (under the prefix):
--   request:<requestId>        the request's JSON, as the port gave it or re-encoded by cjson
--   requests                   zset requestId -> insertion sequence (counts; ties in the lists)
--   visitor-request:<visitor>  the visitor's pending requestId
--   agent-rings:<agentId>      zset requestId -> requestedAt, the requests ringing the agent
--   org-waiting:<orgId>        zset requestId -> requestedAt, the requests ringing nobody
-- Every key written gets the TTL again; a request's keys are all refreshed when it is written.
-- Replies: a request's JSON, a list of them, or nil.
local P, TTL, OP = ARGV[1], ARGV[2], ARGV[3]

local function key(...)
  return P .. table.concat({ ... }, ':')
end

local REQUESTS = key('requests')

local function zadd(k, score, member)
  redis.call('ZADD', k, score, member)
  redis.call('PEXPIRE', k, TTL)
end

local function zrem(k, member)
  if redis.call('ZREM', k, member) == 1 then redis.call('PEXPIRE', k, TTL) end
end

local function ringKey(request)
  if request.agentId == cjson.null then return key('org-waiting', request.orgId) end
  return key('agent-rings', request.agentId)
end

-- The stored JSON and its decoded record, or nil.
local function load(requestId)
  local raw = redis.call('GET', key('request', requestId))
  if not raw then return nil end
  return raw, cjson.decode(raw)
end

-- Writes the record and refreshes every key that indexes it (its ring index is the caller's).
local function save(request, raw)
  redis.call('SET', key('request', request.requestId), raw, 'PX', TTL)
  redis.call('SET', key('visitor-request', request.visitorId), request.requestId, 'PX', TTL)
  redis.call('PEXPIRE', REQUESTS, TTL)
end

local function remove(request)
  local id = request.requestId
  zrem(ringKey(request), id)
  local visitorKey = key('visitor-request', request.visitorId)
  if redis.call('GET', visitorKey) == id then redis.call('DEL', visitorKey) end
  zrem(REQUESTS, id)
  redis.call('DEL', key('request', id))
end

local function contains(list, value)
  for _, item in ipairs(list) do
    if item == value then return true end
  end
  return false
end

-- The requests of a ring index that still exist, oldest first, ties in insertion order.
local function listed(indexKey)
  local entries = {}
  local members = redis.call('ZRANGE', indexKey, 0, -1, 'WITHSCORES')
  for i = 1, #members, 2 do
    local raw = redis.call('GET', key('request', members[i]))
    if raw then
      local seq = tonumber(redis.call('ZSCORE', REQUESTS, members[i]) or 0)
      table.insert(entries, { raw = raw, at = tonumber(members[i + 1]), seq = seq })
    end
  end
  table.sort(entries, function(a, b)
    if a.at ~= b.at then return a.at < b.at end
    return a.seq < b.seq
  end)
  local out = {}
  for i, entry in ipairs(entries) do out[i] = entry.raw end
  return out
end

local ops = {}

-- put(request JSON): stores it verbatim; returns the visitor's previous request, removed.
function ops.put(raw)
  local request = cjson.decode(raw)
  local previousRaw = nil
  local previousId = redis.call('GET', key('visitor-request', request.visitorId))
  if previousId then
    local stored, previous = load(previousId)
    if stored then
      previousRaw = stored
      remove(previous)
    end
  end
  -- The same id stored for another visitor is overwritten in place (it keeps its position).
  local seq = nil
  local _, existing = load(request.requestId)
  if existing then
    seq = tonumber(redis.call('ZSCORE', REQUESTS, request.requestId))
    remove(existing)
  end
  if not seq then
    local last = redis.call('ZRANGE', REQUESTS, -1, -1, 'WITHSCORES')
    seq = last[2] and tonumber(last[2]) + 1 or 1
  end
  zadd(REQUESTS, seq, request.requestId)
  zadd(ringKey(request), request.requestedAt, request.requestId)
  save(request, raw)
  return previousRaw
end

-- ring(requestId, agentId): only a request ringing nobody.
function ops.ring(requestId, agentId)
  local _, request = load(requestId)
  if not request or request.agentId ~= cjson.null then return nil end
  zrem(ringKey(request), requestId)
  request.agentId = agentId
  request.ringSeq = request.ringSeq + 1
  zadd(ringKey(request), request.requestedAt, requestId)
  local raw = cjson.encode(request)
  save(request, raw)
  return raw
end

-- putRinging(raw, agentId): put, then ring the new request at agentId, in one step.
-- Returns { replaced request or false, ringing request or false }.
function ops.putRinging(raw, agentId)
  local replaced = ops.put(raw)
  local ringing = ops.ring(cjson.decode(raw).requestId, agentId)
  return { replaced or false, ringing or false }
end

-- release(requestId, agentId, 'rejected' | 'passed'): only from the agent it rings.
function ops.release(requestId, agentId, why)
  local _, request = load(requestId)
  if not request or request.agentId ~= agentId then return nil end
  zrem(ringKey(request), requestId)
  request.agentId = cjson.null
  request.ringSeq = request.ringSeq + 1
  local list = why == 'rejected' and request.rejectedBy or request.passedBy
  if not contains(list, agentId) then table.insert(list, agentId) end
  zadd(ringKey(request), request.requestedAt, requestId)
  local raw = cjson.encode(request)
  save(request, raw)
  return raw
end

-- claim(requestId, agentId): removes it if it rings the agent.
-- With callId (an accept's MULTI): only once that call exists, so a calls script that failed after
-- its own check (MULTI never rolls back) leaves the request ringing rather than claimed without it.
function ops.claim(requestId, agentId, callId)
  local raw, request = load(requestId)
  if not request or request.agentId ~= agentId then return nil end
  if callId and redis.call('EXISTS', key('call', callId)) == 0 then return nil end
  remove(request)
  return raw
end

-- withdraw(requestId, visitorId): removes it if it is the visitor's.
function ops.withdraw(requestId, visitorId)
  local raw, request = load(requestId)
  if not request or request.visitorId ~= visitorId then return nil end
  remove(request)
  return raw
end

function ops.ofVisitor(visitorId)
  local requestId = redis.call('GET', key('visitor-request', visitorId))
  if not requestId then return nil end
  return redis.call('GET', key('request', requestId))
end

function ops.ringing(agentId)
  return listed(key('agent-rings', agentId))
end

function ops.waiting(orgId)
  return listed(key('org-waiting', orgId))
end

local op = ops[OP]
if not op then return redis.error_reply('unknown operation ' .. tostring(OP)) end
return op(unpack(ARGV, 4))
