-- Finds instances that are dead — no heartbeat key, and no beat for longer than the TTL (a beat
-- right after an outage counts, so a Redis that lost its keys kills nobody) — and claims each for
-- exactly one survivor: it leaves the known set here, so only the caller that removed it takes
-- over its sockets.
-- KEYS: instances (zset id -> last beat ms). ARGV: heartbeat key prefix, caller id, ttl ms
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local claimed = {}
local known = redis.call('ZRANGE', KEYS[1], 0, -1, 'WITHSCORES')
for i = 1, #known, 2 do
  local id, beat = known[i], tonumber(known[i + 1])
  if id ~= ARGV[2] and now - beat > tonumber(ARGV[3]) and redis.call('EXISTS', ARGV[1] .. id) == 0 then
    redis.call('ZREM', KEYS[1], id)
    table.insert(claimed, id)
  end
end
return claimed
