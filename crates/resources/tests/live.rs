//! HTTP Tasks and Lambda functions against real local servers and processes, run through the
//! engine (`run_local_with`) with the `Integrations` handler.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::body::Bytes;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};
use stepwise_asl::StateMachine;
use stepwise_engine::{run_local_with, ExecutionOutcome, RunOptions};
use stepwise_resources::{Connections, FunctionSpec, Integrations, LambdaFunctions};

fn json_response(status: StatusCode, headers: &[(&str, &str)], body: Value) -> Response {
    let mut r = (status, body.to_string()).into_response();
    r.headers_mut().insert(
        "content-type",
        "application/json".parse().expect("static header"),
    );
    for (k, v) in headers {
        if let (Ok(k), Ok(v)) = (
            axum::http::HeaderName::from_bytes(k.as_bytes()),
            axum::http::HeaderValue::from_str(v),
        ) {
            r.headers_mut().insert(k, v);
        }
    }
    r
}

async fn handle(method: Method, uri: Uri, headers: HeaderMap, body: Bytes) -> Response {
    let path = uri.path().to_string();
    let text = String::from_utf8_lossy(&body).into_owned();
    let event: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
    let hdrs: serde_json::Map<String, Value> = headers
        .iter()
        .map(|(k, v)| {
            (
                k.as_str().to_string(),
                Value::String(String::from_utf8_lossy(v.as_bytes()).into_owned()),
            )
        })
        .collect();
    match path.as_str() {
        "/echo" => json_response(
            StatusCode::OK,
            &[("x-extra", "1")],
            json!({"method": method.as_str(), "query": uri.query(), "headers": hdrs, "body": text}),
        ),
        "/text" => (StatusCode::OK, "plain words").into_response(),
        "/missing" => json_response(StatusCode::NOT_FOUND, &[], json!({"message": "nope"})),
        "/token" => {
            let ok = headers.get("authorization").and_then(|v| v.to_str().ok())
                == Some("Basic aWQ6c2VjcmV0")
                && text.contains("grant_type=client_credentials");
            if ok {
                json_response(
                    StatusCode::OK,
                    &[],
                    json!({"access_token": "tok", "expires_in": 3600}),
                )
            } else {
                json_response(
                    StatusCode::UNAUTHORIZED,
                    &[],
                    json!({"error": "bad client"}),
                )
            }
        }
        "/fn/greet" => json_response(
            StatusCode::OK,
            &[],
            json!({"greeting": format!("hi {}", event["name"].as_str().unwrap_or("?"))}),
        ),
        "/fn/fail" => json_response(
            StatusCode::INTERNAL_SERVER_ERROR,
            &[],
            json!({"errorMessage": "bad input", "errorType": "ValueError", "stackTrace": []}),
        ),
        p if p.starts_with("/2015-03-31/functions/") => {
            let name = p
                .trim_start_matches("/2015-03-31/functions/")
                .trim_end_matches("/invocations");
            match name {
                "api-fn" => json_response(
                    StatusCode::OK,
                    &[("x-amz-executed-version", "7")],
                    json!({"via": "api", "event": event, "qualifier": uri.query()}),
                ),
                "api-err" => json_response(
                    StatusCode::OK,
                    &[("x-amz-function-error", "Unhandled")],
                    json!({"errorMessage": "kaput", "errorType": "KeyError", "requestId": "r", "stackTrace": []}),
                ),
                "api-throttled" => json_response(
                    StatusCode::TOO_MANY_REQUESTS,
                    &[(
                        "x-amzn-errortype",
                        "TooManyRequestsException:http://internal",
                    )],
                    json!({"Type": "User", "message": "Rate exceeded"}),
                ),
                _ => json_response(
                    StatusCode::NOT_FOUND,
                    &[(
                        "x-amzn-errortype",
                        "ResourceNotFoundException:http://internal",
                    )],
                    json!({"Type": "User", "message": "Function not found"}),
                ),
            }
        }
        _ => (StatusCode::NOT_FOUND, "no route").into_response(),
    }
}

/// Starts the test server on its own runtime thread; returns its address.
fn server() -> SocketAddr {
    static ADDR: std::sync::OnceLock<SocketAddr> = std::sync::OnceLock::new();
    *ADDR.get_or_init(|| {
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(1)
                .enable_all()
                .build()
                .expect("runtime");
            rt.block_on(async move {
                let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
                    .await
                    .expect("bind");
                tx.send(listener.local_addr().expect("addr")).expect("send");
                let app = axum::Router::new().fallback(handle);
                axum::serve(listener, app).await.expect("serve");
            });
        });
        rx.recv().expect("server address")
    })
}

fn base() -> String {
    format!("http://{}", server())
}

fn integrations() -> Integrations {
    let b = base();
    let connections = Connections::from_json(&json!({"Connections": {
        "arn:aws:events:us-east-1:123456789012:connection/basic/1": {
            "AuthorizationType": "BASIC",
            "AuthParameters": {"BasicAuthParameters": {"Username": "u", "Password": "p"},
                "InvocationHttpParameters": {"QueryStringParameters": [{"Key": "tenant", "Value": "t1"}]}}},
        "apikey": {"AuthorizationType": "API_KEY",
            "AuthParameters": {"ApiKeyAuthParameters": {"ApiKeyName": "x-api-key", "ApiKeyValue": "k123"},
                "InvocationHttpParameters": {"BodyParameters": [{"Key": "from", "Value": "conn"}]}}},
        "oauth": {"AuthorizationType": "OAUTH_CLIENT_CREDENTIALS",
            "AuthParameters": {"OAuthParameters": {"AuthorizationEndpoint": format!("{b}/token"),
                "HttpMethod": "POST", "ClientParameters": {"ClientID": "id", "ClientSecret": "secret"}}}}
    }}))
    .expect("connections");
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/lambda_fn.py")
        .to_string_lossy()
        .into_owned();
    let functions = LambdaFunctions::from_json(
        &json!({"Functions": {
            "greet": {"Url": format!("{b}/fn/greet")},
            "fail": {"Url": format!("{b}/fn/fail")},
            "cmd": {"Command": ["python3", script], "Env": {"MODE": "test"}},
            "slow": {"Command": ["sleep", "5"], "TimeoutSeconds": 1},
            "api-fn": {"LambdaEndpoint": b.clone()},
            "api-err": {"LambdaEndpoint": b.clone()},
            "api-throttled": {"LambdaEndpoint": b.clone()},
            "api-missing": {"LambdaEndpoint": b.clone()}
        }}),
        None,
    )
    .expect("functions")
    .with_function(
        "cat",
        FunctionSpec::Command {
            argv: vec!["cat".into()],
            env: Vec::new(),
            cwd: None,
            timeout_seconds: 10,
        },
    );
    Integrations::new()
        .with_connections(Arc::new(connections))
        .with_lambda(Arc::new(functions))
}

/// One Task state `T` with this resource and parameters (JSONPath), run to its end.
fn task(resource: &str, parameters: Value, input: Value) -> ExecutionOutcome {
    let def = json!({"StartAt": "T", "States": {"T": {
        "Type": "Task", "Resource": resource, "Parameters": parameters, "End": true}}});
    run(&def, input)
}

fn run(def: &Value, input: Value) -> ExecutionOutcome {
    let machine = StateMachine::from_value(def).expect("valid definition");
    run_local_with(&machine, input, &RunOptions::default(), &integrations())
}

fn output(o: &ExecutionOutcome) -> Value {
    assert_eq!(
        o.status.as_str(),
        "SUCCEEDED",
        "{:?} {:?}",
        o.error,
        o.cause
    );
    serde_json::from_str(o.output.as_deref().unwrap_or("null")).expect("JSON output")
}

const HTTP: &str = "arn:aws:states:::http:invoke";

#[test]
fn http_task_with_basic_auth_headers_query_and_json_body() {
    let o = task(
        HTTP,
        json!({"ApiEndpoint": format!("{}/echo", base()), "Method": "POST",
               "Authentication": {"ConnectionArn": "arn:aws:events:us-east-1:123456789012:connection/basic/1"},
               "Headers": {"X-Custom": "c"}, "QueryParameters": {"q": "a b", "list": ["1", "2"]},
               "RequestBody": {"n.$": "$.n", "s": "x"}}),
        json!({"n": 5}),
    );
    let out = output(&o);
    assert_eq!(out["StatusCode"], 200);
    assert_eq!(out["StatusText"], "OK");
    assert_eq!(out["Headers"]["x-extra"], json!(["1"]));
    let echoed = &out["ResponseBody"];
    assert_eq!(echoed["method"], "POST");
    assert_eq!(echoed["query"], "q=a+b&list=1&list=2&tenant=t1");
    assert_eq!(echoed["headers"]["authorization"], "Basic dTpw");
    assert_eq!(echoed["headers"]["x-custom"], "c");
    assert_eq!(
        echoed["headers"]["content-type"],
        "application/json; charset=UTF-8"
    );
    assert_eq!(echoed["body"], r#"{"n":5,"s":"x"}"#);
}

#[test]
fn http_task_url_encoded_with_api_key() {
    let o = task(
        HTTP,
        json!({"ApiEndpoint": format!("{}/echo", base()), "Method": "PUT",
               "Authentication": {"ConnectionArn": "arn:aws:events:us-east-1:1:connection/apikey/zz"},
               "RequestBody": {"tags": ["a", "b"], "name": "n"},
               "Transform": {"RequestBodyEncoding": "URL_ENCODED",
                             "RequestEncodingOptions": {"ArrayFormat": "BRACKETS"}}}),
        json!({}),
    );
    let echoed = output(&o)["ResponseBody"].clone();
    assert_eq!(echoed["headers"]["x-api-key"], "k123");
    assert_eq!(
        echoed["headers"]["content-type"],
        "application/x-www-form-urlencoded"
    );
    assert_eq!(echoed["body"], "tags%5B%5D=a&tags%5B%5D=b&name=n&from=conn");
}

#[test]
fn http_task_with_oauth_client_credentials() {
    let o = task(
        HTTP,
        json!({"ApiEndpoint": format!("{}/echo", base()), "Method": "GET",
               "Authentication": {"ConnectionArn": "oauth"}}),
        json!({}),
    );
    assert_eq!(
        output(&o)["ResponseBody"]["headers"]["authorization"],
        "Bearer tok"
    );
}

#[test]
fn http_task_text_response_is_a_string() {
    let o = task(
        HTTP,
        json!({"ApiEndpoint": format!("{}/text", base()), "Method": "GET"}),
        json!({}),
    );
    assert_eq!(output(&o)["ResponseBody"], "plain words");
}

#[test]
fn http_task_status_error_is_catchable_with_the_response_as_cause() {
    let def = json!({"StartAt": "T", "States": {
        "T": {"Type": "Task", "Resource": HTTP,
              "Parameters": {"ApiEndpoint": format!("{}/missing", base()), "Method": "GET"},
              "Catch": [{"ErrorEquals": ["States.Http.StatusCode.404"], "ResultPath": "$.err", "Next": "Done"}],
              "End": true},
        "Done": {"Type": "Pass", "End": true}}});
    let out = output(&run(&def, json!({})));
    assert_eq!(out["err"]["Error"], "States.Http.StatusCode.404");
    let cause: Value =
        serde_json::from_str(out["err"]["Cause"].as_str().unwrap_or("")).expect("JSON cause");
    assert_eq!(cause["StatusCode"], 404);
    assert_eq!(cause["StatusText"], "Not Found");
    assert_eq!(cause["ResponseBody"], json!({"message": "nope"}));
}

#[test]
fn http_task_socket_error() {
    let closed = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = closed.local_addr().expect("addr").port();
    drop(closed);
    let o = task(
        HTTP,
        json!({"ApiEndpoint": format!("http://127.0.0.1:{port}/x"), "Method": "GET"}),
        json!({}),
    );
    assert_eq!(
        o.error.as_deref(),
        Some("States.Http.Socket"),
        "{:?}",
        o.cause
    );
}

#[test]
fn http_task_unknown_connection_fails_clearly() {
    let o = task(
        HTTP,
        json!({"ApiEndpoint": format!("{}/echo", base()), "Method": "GET",
               "Authentication": {"ConnectionArn": "arn:aws:events:us-east-1:1:connection/nope/1"}}),
        json!({}),
    );
    assert_eq!(o.error.as_deref(), Some("States.Runtime"));
    assert!(o
        .cause
        .as_deref()
        .unwrap_or("")
        .contains("connection/nope/1"));
}

#[test]
fn lambda_invoke_http_function() {
    let o = task(
        "arn:aws:states:::lambda:invoke",
        json!({"FunctionName": "arn:aws:lambda:us-east-1:123456789012:function:greet", "Payload": {"name.$": "$.who"}}),
        json!({"who": "ann"}),
    );
    let out = output(&o);
    assert_eq!(out["Payload"], json!({"greeting": "hi ann"}));
    assert_eq!(out["StatusCode"], 200);
    assert_eq!(out["ExecutedVersion"], "$LATEST");
    assert_eq!(out["SdkHttpMetadata"]["HttpStatusCode"], 200);
}

#[test]
fn bare_function_arn_returns_the_payload() {
    let o = task(
        "arn:aws:lambda:us-east-1:123456789012:function:greet",
        json!({"name": "bob"}),
        json!({}),
    );
    assert_eq!(output(&o), json!({"greeting": "hi bob"}));
}

#[test]
fn http_function_error_takes_its_type() {
    let o = task(
        "arn:aws:states:::lambda:invoke",
        json!({"FunctionName": "fail"}),
        json!({}),
    );
    assert_eq!(o.error.as_deref(), Some("ValueError"));
    let cause: Value = serde_json::from_str(o.cause.as_deref().unwrap_or("")).expect("JSON cause");
    assert_eq!(cause["errorMessage"], "bad input");
}

#[test]
fn lambda_api_endpoint() {
    let o = task(
        "arn:aws:states:::lambda:invoke",
        json!({"FunctionName": "api-fn:prod", "Payload": {"a": 1}}),
        json!({}),
    );
    let out = output(&o);
    assert_eq!(
        out["Payload"],
        json!({"via": "api", "event": {"a": 1}, "qualifier": "Qualifier=prod"})
    );
    assert_eq!(out["ExecutedVersion"], "7");
    let o = task(
        "arn:aws:states:::lambda:invoke",
        json!({"FunctionName": "api-err"}),
        json!({}),
    );
    assert_eq!(o.error.as_deref(), Some("KeyError"));
    let o = task(
        "arn:aws:states:::lambda:invoke",
        json!({"FunctionName": "api-missing"}),
        json!({}),
    );
    assert_eq!(o.error.as_deref(), Some("Lambda.ResourceNotFoundException"));
    assert!(o
        .cause
        .as_deref()
        .unwrap_or("")
        .starts_with("Function not found: arn:aws:lambda:"));
    let o = task(
        "arn:aws:states:::lambda:invoke",
        json!({"FunctionName": "api-throttled"}),
        json!({}),
    );
    assert_eq!(o.error.as_deref(), Some("Lambda.TooManyRequestsException"));
    assert!(o
        .cause
        .as_deref()
        .unwrap_or("")
        .starts_with("Rate exceeded (Service: AWSLambda; Status Code: 429;"));
}

#[test]
fn command_functions() {
    let o = task(
        "arn:aws:lambda:us-east-1:123456789012:function:cmd",
        json!({"x": [1, 2]}),
        json!({}),
    );
    assert_eq!(
        output(&o),
        json!({"echo": {"x": [1, 2]}, "fn": "cmd", "mode": "test"})
    );
    let o = task(
        "arn:aws:states:::lambda:invoke",
        json!({"FunctionName": "cat", "Payload": "s"}),
        json!({}),
    );
    assert_eq!(output(&o)["Payload"], "s");
    let o = task(
        "arn:aws:lambda:us-east-1:1:function:cmd",
        json!({"fail": "no good"}),
        json!({}),
    );
    assert_eq!(o.error.as_deref(), Some("ValueError"));
    assert!(o.cause.as_deref().unwrap_or("").contains("no good"));
    let o = task(
        "arn:aws:lambda:us-east-1:1:function:cmd",
        json!({"exit": 3}),
        json!({}),
    );
    assert_eq!(o.error.as_deref(), Some("Runtime.ExitError"));
    let cause: Value = serde_json::from_str(o.cause.as_deref().unwrap_or("")).expect("JSON cause");
    assert!(cause["errorMessage"]
        .as_str()
        .unwrap_or("")
        .ends_with("exit status 3"));
    assert_eq!(cause["stackTrace"], json!(["crashing on purpose"]));
    let o = task(
        "arn:aws:lambda:us-east-1:1:function:slow",
        json!({}),
        json!({}),
    );
    assert_eq!(o.error.as_deref(), Some("Sandbox.Timedout"));
}

#[test]
fn retries_reach_the_function_again() {
    let def = json!({"StartAt": "T", "States": {
        "T": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
              "Parameters": {"FunctionName": "fail"},
              "Retry": [{"ErrorEquals": ["ValueError"], "MaxAttempts": 1, "IntervalSeconds": 1}],
              "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Caught"}], "End": true},
        "Caught": {"Type": "Pass", "Result": "caught", "End": true}}});
    assert_eq!(output(&run(&def, json!({}))), json!("caught"));
}

#[test]
fn other_services_fail_naming_the_missing_configuration() {
    let o = task(
        "arn:aws:states:::sqs:sendMessage",
        json!({"QueueUrl": "q", "MessageBody": "m"}),
        json!({}),
    );
    assert_eq!(o.error.as_deref(), Some("States.Runtime"));
    let cause = o.cause.unwrap_or_default();
    assert!(
        cause.contains("arn:aws:states:::sqs:sendMessage") && cause.contains("--mock-config"),
        "{cause}"
    );
}

#[test]
fn examples_run() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples");
    let read = |p: &str| -> Value {
        serde_json::from_str(&std::fs::read_to_string(root.join(p)).expect("example file"))
            .expect("example JSON")
    };
    // The mock config drives the order-processing example through both test cases.
    let mocks = Arc::new(
        stepwise_resources::MockConfig::load(
            &root.join("integrations/order-processing.mock-config.json"),
        )
        .expect("mock config"),
    );
    let machine = StateMachine::from_value(&read("order-processing.asl.json")).expect("valid");
    let input = read("order-processing.input.json");
    let mut statuses = Vec::new();
    for tc in ["HappyPath", "ReceiptThrottled"] {
        let handler = stepwise_resources::MockHandler::new(mocks.clone(), "order-processing", tc)
            .expect("test case");
        let o = run_local_with(&machine, input.clone(), &RunOptions::default(), &handler);
        statuses.push((o.status.as_str().to_string(), o.output, o.error));
    }
    // A failed receipt is caught and does not change the order's outcome.
    assert_eq!(statuses[0], statuses[1]);
    assert_eq!(statuses[0].0, "SUCCEEDED", "{statuses:?}");
    // The command Lambda example.
    let functions =
        LambdaFunctions::load(&root.join("integrations/lambda-config.json")).expect("config");
    let i = Integrations::new().with_lambda(Arc::new(functions));
    let machine =
        StateMachine::from_value(&read("integrations/hello-lambda.asl.json")).expect("valid");
    let o = run_local_with(&machine, json!({"name": "Ada"}), &RunOptions::default(), &i);
    assert_eq!(
        output(&o),
        json!({"greeting": "Hello, Ada!", "again": {"message": "Hello, again!"}})
    );
    let _ = Connections::load(&root.join("integrations/connections.json"));
}
