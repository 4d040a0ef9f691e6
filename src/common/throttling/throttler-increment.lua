-- One increment of @nestjs/throttler's ThrottlerStorage, with exactly the semantics of the library's
-- in-memory ThrottlerStorageService (6.x), on one storage key:
--   KEYS[1]  hash: expiresAt, blockExpiresAt, isBlocked (0/1), seq (member counter) — the record;
--   KEYS[2]  sorted set of this throttler's hits on the key: member seq, score the hit's expiry.
--   ARGV     now (epoch ms), ttl (ms), limit, blockDuration (ms), key TTL slack (ms).
-- Returns { totalHits, timeToExpire (s), isBlocked (0/1), timeToBlockExpire (s) }.
-- The record lives while the library would keep it from its sweep (its window, its block, a live
-- hit of any throttler on it: its TTL is only ever extended); a hit set lives until its last hit expires.
local record, hits = KEYS[1], KEYS[2]
local now = tonumber(ARGV[1])
local ttl = tonumber(ARGV[2])
local limit = tonumber(ARGV[3])
local blockDuration = tonumber(ARGV[4])

local function seconds(ms)
  return math.ceil(ms / 1000)
end

local stored = redis.call('HMGET', record, 'expiresAt', 'blockExpiresAt', 'isBlocked')
local expiresAt, blockExpiresAt, isBlocked
if stored[1] then
  expiresAt = tonumber(stored[1])
  blockExpiresAt = tonumber(stored[2])
  isBlocked = stored[3] == '1'
else
  expiresAt = now + ttl
  blockExpiresAt = 0
  isBlocked = false
  -- The library evicts a record with its hits.
  redis.call('DEL', hits)
end

-- Hits that expired are forgotten (the library keeps those expiring after now).
redis.call('ZREMRANGEBYSCORE', hits, '-inf', now)
local totalHits = redis.call('ZCARD', hits)

local function fire()
  local seq = redis.call('HINCRBY', record, 'seq', 1)
  redis.call('ZADD', hits, now + ttl, seq)
  totalHits = totalHits + 1
end

local timeToExpire = seconds(expiresAt - now)
if timeToExpire <= 0 then
  expiresAt = now + ttl
  timeToExpire = seconds(expiresAt - now)
end

local reply
if blockDuration <= 0 then
  -- incrementWithoutBlock: over the limit, a hit is refused without being counted or blocking.
  local over = totalHits >= limit
  if not over then fire() end
  local timeToBlockExpire = 0
  if over then
    local first = redis.call('ZRANGE', hits, 0, 0, 'WITHSCORES')
    if first[2] then timeToBlockExpire = seconds(tonumber(first[2]) - now) else timeToBlockExpire = timeToExpire end
  end
  reply = { totalHits + (over and 1 or 0), timeToExpire, over and 1 or 0, timeToBlockExpire }
else
  if not isBlocked then fire() end
  if totalHits > limit and not isBlocked then
    isBlocked = true
    blockExpiresAt = now + blockDuration
  end
  local timeToBlockExpire = seconds(blockExpiresAt - now)
  if timeToBlockExpire <= 0 and isBlocked then
    -- The block is over: the throttler starts again, this hit its first.
    isBlocked = false
    redis.call('DEL', hits)
    totalHits = 0
    fire()
  end
  reply = { totalHits, timeToExpire, isBlocked and 1 or 0, timeToBlockExpire }
end

redis.call('HSET', record, 'expiresAt', expiresAt, 'blockExpiresAt', blockExpiresAt, 'isBlocked', isBlocked and 1 or 0)

-- TTLs: the hit set until its last hit expires; the record while any of it still matters; each
-- plus the slack (ARGV[5]: the times are the caller's clock, the TTLs Redis's).
local SLACK = tonumber(ARGV[5])
local needed = expiresAt
if isBlocked and blockExpiresAt > needed then needed = blockExpiresAt end
local last = redis.call('ZRANGE', hits, -1, -1, 'WITHSCORES')
if last[2] then
  local lastHit = tonumber(last[2])
  redis.call('PEXPIRE', hits, lastHit - now + SLACK)
  if lastHit > needed then needed = lastHit end
end
local current = redis.call('PTTL', record)
if current < needed - now + SLACK then redis.call('PEXPIRE', record, needed - now + SLACK) end

return reply
