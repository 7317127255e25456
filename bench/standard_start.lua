-- wrk script: StartExecution on a Standard state machine (SM_ARN) with a unique name per request.
-- The Authorization header only names the service (moto routes requests by it); nothing is signed.
local counter = 0
local prefix = tostring(math.random(1, 1000000000))
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/x-amz-json-1.0"
wrk.headers["X-Amz-Target"] = "AWSStepFunctions.StartExecution"
wrk.headers["Authorization"] = "AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/states/aws4_request, SignedHeaders=host, Signature=0"
function setup(thread)
  thread:set("id", tostring(math.random(1, 1000000000)))
end
function init(args)
  prefix = id or prefix
end
function request()
  counter = counter + 1
  local body = '{"stateMachineArn": "' .. os.getenv("SM_ARN") .. '", "name": "w' .. prefix .. '-' .. counter .. '", "input": "{\\"a\\": 1}"}'
  return wrk.format(nil, nil, nil, body)
end
