-- wrk script: every request is a different person posting to the public capture endpoint.
local counter = 0
local thread_id = 0
local threads = {}

function setup(thread)
  thread:set("tid", thread_id)
  thread_id = thread_id + 1
  table.insert(threads, thread)
end

function init(args)
  counter = 0
end

request = function()
  counter = counter + 1
  local n = tid * 1000000 + counter
  local body = string.format(
    '{"name":"Иван Петров","phone":"+7916%07d","email":"lead%d@mail.ru","utm_source":"google","utm_medium":"cpc","message":"Перезвоните, пожалуйста"}',
    n % 10000000, n)
  return wrk.format("POST", nil, { ["Content-Type"] = "application/json" }, body)
end
