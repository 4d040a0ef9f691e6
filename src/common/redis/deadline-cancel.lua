-- Cancels a deadline, whether it waits or is being run (a run that finishes later changes nothing).
-- KEYS: deadlines, jobs, running. ARGV: member
local waiting = redis.call('ZREM', KEYS[1], ARGV[1])
redis.call('ZREM', KEYS[3], ARGV[1])
redis.call('HDEL', KEYS[2], ARGV[1])
return waiting
