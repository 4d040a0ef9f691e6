-- Sets (or replaces) a deadline: due at Redis's clock + delay, so instances' clocks need not agree.
-- KEYS: deadlines (zset member -> due ms), jobs (hash member -> job JSON), running (zset member -> lease end)
-- ARGV: member, delay ms, job JSON, key TTL ms[, member of a deadline this one replaces (cancelled)]
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local due = now + tonumber(ARGV[2])
redis.call('ZADD', KEYS[1], due, ARGV[1])
redis.call('HSET', KEYS[2], ARGV[1], ARGV[3])
redis.call('ZREM', KEYS[3], ARGV[1])
if ARGV[5] then
  redis.call('ZREM', KEYS[1], ARGV[5])
  redis.call('ZREM', KEYS[3], ARGV[5])
  redis.call('HDEL', KEYS[2], ARGV[5])
end
for i = 1, 3 do
  if redis.call('PTTL', KEYS[i]) < tonumber(ARGV[4]) then redis.call('PEXPIRE', KEYS[i], ARGV[4]) end
end
return due
