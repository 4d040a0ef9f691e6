-- Registers this instance as alive: its heartbeat key (expires after the TTL) and its entry in the
-- set of known instances, so that survivors can tell when it is gone.
-- KEYS: heartbeat key, instances (zset id -> last beat ms). ARGV: id, ttl ms
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('SET', KEYS[1], now, 'PX', ARGV[2])
redis.call('ZADD', KEYS[2], now, ARGV[1])
redis.call('PEXPIRE', KEYS[2], 86400000)
return now
