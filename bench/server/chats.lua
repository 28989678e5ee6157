-- GET /api/chats over a database holding CHATS chats (run.sh fills it), perPage 50.
-- Pages are visited in a scattered order over all of them, or over the first
-- FIRST_PAGES only (what staff dashboards mostly look at).
local counter = 0
local chats = tonumber(os.getenv("CHATS") or "100000")
local per_page = 50
local pages = tonumber(os.getenv("FIRST_PAGES") or "0")
if pages == 0 then pages = math.floor(chats / per_page) end
wrk.headers["X-API-Key"] = os.getenv("API_KEY") or "bench-key"

request = function()
  counter = counter + 1
  local page = (counter * 7919) % pages + 1
  return wrk.format("GET", string.format("/api/chats?page=%d&perPage=%d", page, per_page))
end
