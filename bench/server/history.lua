-- GET /message_history/<user>?limit=50 over the users bench/server/run.sh filled with 60 messages each.
local counter = 0
local users = tonumber(os.getenv("HISTORY_USERS") or "200")

request = function()
  counter = counter + 1
  return wrk.format("GET", string.format("/message_history/hist-%d?limit=50", counter % users))
end
