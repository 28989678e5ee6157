-- POST /send_message (JSON) from 10,000 different users in turn.
local counter = 0
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"

request = function()
  counter = counter + 1
  local body = string.format('{"user_id":"load-%d","user_name":"Load %d","message":"Здравствуйте, где мой заказ номер %d?"}', counter % 10000, counter % 10000, counter)
  return wrk.format(nil, "/send_message", nil, body)
end
