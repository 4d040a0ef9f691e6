-- One wrong /metrics key from one address, by MetricsFailureCooldown's rules (metrics-failure-
-- cooldown.service.ts), on its hash KEYS[1] { count, windowStart, coolingUntil }.
--   ARGV  now (epoch ms), windowMs, failureLimit, failureCooldownMs.
-- Returns 1 when this failure starts a cool-down, else 0. The key expires when it no longer
-- matters (its window is over and it is not cooling down): absent is then the same as present.
local key = KEYS[1]
local now = tonumber(ARGV[1])
local windowMs = tonumber(ARGV[2])
local limit = tonumber(ARGV[3])
local cooldownMs = tonumber(ARGV[4])

local stored = redis.call('HMGET', key, 'count', 'windowStart', 'coolingUntil')
local count, windowStart, coolingUntil
if stored[1] and now - tonumber(stored[2]) < windowMs then
  count = tonumber(stored[1])
  windowStart = tonumber(stored[2])
  coolingUntil = tonumber(stored[3])
else
  -- A new window; a cool-down still running carries over.
  count = 0
  windowStart = now
  coolingUntil = tonumber(stored[3] or '0')
end

count = count + 1
local started = 0
if count > limit and coolingUntil <= now then
  coolingUntil = now + cooldownMs
  count = 0
  started = 1
end

redis.call('HSET', key, 'count', count, 'windowStart', windowStart, 'coolingUntil', coolingUntil)
local expiresAt = windowStart + windowMs
if coolingUntil > expiresAt then expiresAt = coolingUntil end
redis.call('PEXPIRE', key, expiresAt - now)
return started
