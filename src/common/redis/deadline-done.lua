-- A claimed deadline ran: its lease and job go, unless it was set again meanwhile (then the new
-- one waits, with its own job).
-- KEYS: deadlines, jobs, running. ARGV: member
if redis.call('ZREM', KEYS[3], ARGV[1]) == 1 and not redis.call('ZSCORE', KEYS[1], ARGV[1]) then
  redis.call('HDEL', KEYS[2], ARGV[1])
end
return 1
