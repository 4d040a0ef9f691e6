-- Claims due deadlines for this instance: each leaves the waiting set and is leased (the lease ends
-- at now + lease ms), so exactly one instance runs it; a lease that ran out (its instance died while
-- running it) is claimed again. With ARGV[3], only that member, and only if it is due.
-- KEYS: deadlines, jobs, running. ARGV: limit, lease ms, [member]
-- Returns a flat list: member, job JSON, member, job JSON, ...
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local lease = now + tonumber(ARGV[2])
local members = {}
if ARGV[3] then
  local due = redis.call('ZSCORE', KEYS[1], ARGV[3])
  if due and tonumber(due) <= now then members = { ARGV[3] } end
else
  local limit = tonumber(ARGV[1])
  members = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now, 'LIMIT', 0, limit)
  local stale = redis.call('ZRANGEBYSCORE', KEYS[3], '-inf', now, 'LIMIT', 0, limit)
  for _, member in ipairs(stale) do table.insert(members, member) end
end
local claimed = {}
for _, member in ipairs(members) do
  local job = redis.call('HGET', KEYS[2], member)
  redis.call('ZREM', KEYS[1], member)
  if job then
    redis.call('ZADD', KEYS[3], lease, member)
    table.insert(claimed, member)
    table.insert(claimed, job)
  else
    redis.call('ZREM', KEYS[3], member)
  end
end
return claimed
