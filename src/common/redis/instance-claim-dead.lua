-- Finds instances whose heartbeat expired and claims each for exactly one survivor: the instance
-- leaves the known set here, so only the caller that removed it takes over its sockets.
-- KEYS: instances. ARGV: heartbeat key prefix, caller id
local claimed = {}
for _, id in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
  if id ~= ARGV[2] and redis.call('EXISTS', ARGV[1] .. id) == 0 then
    redis.call('ZREM', KEYS[1], id)
    table.insert(claimed, id)
  end
end
return claimed
