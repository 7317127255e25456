//! Lambda functions run locally: `arn:aws:states:::lambda:invoke` and bare function ARNs.
//!
//! Functions are configured by name in a JSON file:
//!
//! ```json
//! {"Functions": {
//!    "greet":  {"Url": "http://127.0.0.1:8080/greet"},
//!    "resize": {"Command": ["python3", "resize.py"], "Env": {"MODE": "fast"},
//!               "WorkingDirectory": "functions", "TimeoutSeconds": 30},
//!    "legacy": {"LambdaEndpoint": "http://127.0.0.1:3001"}},
//!  "LambdaEndpoint": "http://127.0.0.1:3001",
//!  "Region": "us-east-1", "Account": "123456789012"}
//! ```
//!
//! - `Url`: the event is POSTed as JSON; a 2xx answer's body is the result. A non-2xx answer
//!   or an `X-Amz-Function-Error` header is a function error (its JSON body's `errorType`
//!   names it, else `Lambda.Unknown`).
//! - `Command`: the event is written to the process's stdin and its stdout is the result. An
//!   object with `errorType` and `errorMessage` on stdout is a function error; a non-zero exit
//!   without one is `Runtime.ExitError`; running past `TimeoutSeconds` (default 900) is
//!   `Sandbox.Timedout`. The environment gets `AWS_LAMBDA_FUNCTION_NAME`,
//!   `AWS_LAMBDA_FUNCTION_VERSION` and `AWS_REQUEST_ID`.
//! - `LambdaEndpoint`: a Lambda-API-compatible server (Step Functions Local's
//!   `LAMBDA_ENDPOINT`, SAM local, LocalStack): `POST /2015-03-31/functions/NAME/invocations`.
//!   The top-level `LambdaEndpoint` serves every function not listed.
//!
//! A function error fails the task with the function's own error type and the error payload
//! as cause (`{"errorMessage", "errorType", "requestId", "stackTrace"}`), as AWS records it.
//! An unknown function fails with `Lambda.ResourceNotFoundException` and AWS's cause text.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::{json, Map, Value};
use stepwise_asl::error::{names, StateError};

use crate::io::{self, HttpCall, HttpFailure};

/// Largest task result Step Functions accepts (256 KiB).
pub const RESULT_LIMIT: usize = 262_144;

const DEFAULT_COMMAND_TIMEOUT: u64 = 900;

/// How one function runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FunctionSpec {
    Url(String),
    Command {
        argv: Vec<String>,
        env: Vec<(String, String)>,
        cwd: Option<PathBuf>,
        timeout_seconds: u64,
    },
    LambdaApi(String),
}

/// The configured functions.
#[derive(Debug, Clone, Default)]
pub struct LambdaFunctions {
    functions: HashMap<String, FunctionSpec>,
    default_endpoint: Option<String>,
    region: String,
    account: String,
}

/// The Lambda `InvocationType`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InvocationType {
    RequestResponse,
    Event,
    DryRun,
}

/// A successful invocation.
#[derive(Debug, Clone, PartialEq)]
pub struct Invoked {
    pub payload: Value,
    /// The payload's length as JSON text (the `Content-Length` AWS records).
    pub payload_len: usize,
    pub status_code: u16,
    pub executed_version: Option<String>,
    pub request_id: String,
}

fn parse_spec(name: &str, v: &Value, base: Option<&Path>) -> Result<FunctionSpec, String> {
    let path = format!("Functions.{name}");
    let obj = v
        .as_object()
        .ok_or_else(|| format!("{path} must be an object with Url, Command or LambdaEndpoint"))?;
    let kinds = ["Url", "Command", "LambdaEndpoint"]
        .iter()
        .filter(|k| obj.contains_key(**k))
        .count();
    if kinds != 1 {
        return Err(format!(
            "{path} needs exactly one of Url, Command, LambdaEndpoint"
        ));
    }
    for key in obj.keys() {
        if ![
            "Url",
            "Command",
            "LambdaEndpoint",
            "Env",
            "WorkingDirectory",
            "TimeoutSeconds",
        ]
        .contains(&key.as_str())
        {
            return Err(format!("{path}.{key} is not a known setting"));
        }
    }
    let text = |k: &str| -> Result<String, String> {
        obj.get(k)
            .and_then(Value::as_str)
            .map(str::to_string)
            .ok_or_else(|| format!("{path}.{k} must be a string"))
    };
    if obj.contains_key("Url") {
        return Ok(FunctionSpec::Url(text("Url")?));
    }
    if obj.contains_key("LambdaEndpoint") {
        return Ok(FunctionSpec::LambdaApi(text("LambdaEndpoint")?));
    }
    let argv: Vec<String> = match obj.get("Command") {
        Some(Value::Array(items)) => items
            .iter()
            .map(|i| {
                i.as_str()
                    .map(str::to_string)
                    .ok_or_else(|| format!("{path}.Command must be a list of strings"))
            })
            .collect::<Result<_, _>>()?,
        Some(Value::String(s)) => vec![s.clone()],
        _ => return Err(format!("{path}.Command must be a list of strings")),
    };
    if argv.is_empty() || argv[0].is_empty() {
        return Err(format!("{path}.Command names no program"));
    }
    let env = match obj.get("Env") {
        None => Vec::new(),
        Some(Value::Object(m)) => m
            .iter()
            .map(|(k, v)| {
                let v = match v {
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                };
                (k.clone(), v)
            })
            .collect(),
        Some(_) => return Err(format!("{path}.Env must be an object")),
    };
    let cwd = match obj.get("WorkingDirectory") {
        None => base.map(Path::to_path_buf),
        Some(Value::String(d)) => Some(match base {
            Some(b) => b.join(d),
            None => PathBuf::from(d),
        }),
        Some(_) => return Err(format!("{path}.WorkingDirectory must be a string")),
    };
    let timeout_seconds = match obj.get("TimeoutSeconds") {
        None => DEFAULT_COMMAND_TIMEOUT,
        Some(v) => v
            .as_u64()
            .filter(|n| *n > 0)
            .ok_or_else(|| format!("{path}.TimeoutSeconds must be a positive integer"))?,
    };
    Ok(FunctionSpec::Command {
        argv,
        env,
        cwd,
        timeout_seconds,
    })
}

fn request_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// `{"errorMessage", "errorType", "requestId", "stackTrace"}` as JSON text.
fn error_payload(error_type: &str, message: &str, request_id: &str, trace: Vec<String>) -> String {
    json!({
        "errorMessage": message,
        "errorType": error_type,
        "requestId": request_id,
        "stackTrace": trace,
    })
    .to_string()
}

/// A function error from a JSON error payload (`errorType` names it).
fn function_error(text: &str) -> StateError {
    let error_type = serde_json::from_str::<Value>(text)
        .ok()
        .and_then(|v| {
            v.get("errorType")
                .and_then(Value::as_str)
                .map(str::to_string)
        })
        .unwrap_or_else(|| "Lambda.Unknown".to_string());
    StateError::new(error_type, text.trim().to_string())
}

fn is_error_object(v: &Value) -> bool {
    v.get("errorType").is_some_and(Value::is_string) && v.get("errorMessage").is_some()
}

/// Parses a result payload (empty means `null`).
fn parse_payload(bytes: &[u8]) -> Result<Value, String> {
    let text = String::from_utf8_lossy(bytes);
    if text.trim().is_empty() {
        return Ok(Value::Null);
    }
    serde_json::from_str(&text).map_err(|_| {
        let shown: String = text.chars().take(200).collect();
        format!("The function's result is not JSON: {shown}")
    })
}

impl LambdaFunctions {
    /// Parses a config; relative `WorkingDirectory`s are taken from `base` (the file's folder).
    pub fn from_json(v: &Value, base: Option<&Path>) -> Result<LambdaFunctions, String> {
        let root = v
            .as_object()
            .ok_or("a Lambda config file holds a JSON object with \"Functions\"")?;
        for key in root.keys() {
            if !["Functions", "LambdaEndpoint", "Region", "Account"].contains(&key.as_str()) {
                return Err(format!(
                    "'{key}' is not a known setting (Functions, LambdaEndpoint, Region, Account)"
                ));
            }
        }
        let mut functions = HashMap::new();
        if let Some(fs) = root.get("Functions") {
            let fs = fs.as_object().ok_or("Functions must be an object")?;
            for (name, spec) in fs {
                functions.insert(name.clone(), parse_spec(name, spec, base)?);
            }
        }
        let s = |k: &str, d: &str| -> Result<String, String> {
            match root.get(k) {
                None => Ok(d.to_string()),
                Some(Value::String(s)) => Ok(s.clone()),
                Some(_) => Err(format!("{k} must be a string")),
            }
        };
        Ok(LambdaFunctions {
            functions,
            default_endpoint: match root.get("LambdaEndpoint") {
                None => None,
                Some(_) => Some(s("LambdaEndpoint", "")?),
            },
            region: s("Region", "us-east-1")?,
            account: s("Account", "123456789012")?,
        })
    }

    /// Loads a config file (`--lambda-config FILE`).
    pub fn load(path: &Path) -> Result<LambdaFunctions, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        let v: Value = serde_json::from_str(&text)
            .map_err(|e| format!("{}: not valid JSON: {e}", path.display()))?;
        LambdaFunctions::from_json(&v, path.parent())
            .map_err(|e| format!("{}: {e}", path.display()))
    }

    /// Adds (or replaces) one function.
    pub fn with_function(mut self, name: &str, spec: FunctionSpec) -> LambdaFunctions {
        self.functions.insert(name.to_string(), spec);
        self
    }

    /// Every function not listed goes to this Lambda-API-compatible endpoint.
    pub fn with_default_endpoint(mut self, endpoint: &str) -> LambdaFunctions {
        self.default_endpoint = Some(endpoint.to_string());
        self
    }

    fn spec(&self, name: &str) -> Option<FunctionSpec> {
        self.functions.get(name).cloned().or_else(|| {
            self.default_endpoint
                .as_ref()
                .map(|e| FunctionSpec::LambdaApi(e.clone()))
        })
    }

    fn not_found(&self, name: &str, qualifier: Option<&str>) -> StateError {
        StateError::new(
            "Lambda.ResourceNotFoundException",
            format!(
                "Function not found: arn:aws:lambda:{}:{}:function:{}:{} (Service: AWSLambda; Status Code: 404; Error Code: ResourceNotFoundException; Request ID: {}; Proxy: null)",
                self.region,
                self.account,
                name,
                qualifier.unwrap_or("$LATEST"),
                request_id()
            ),
        )
    }

    /// Invokes a function with an event.
    pub async fn invoke(
        &self,
        name: &str,
        qualifier: Option<&str>,
        event: &Value,
        kind: InvocationType,
    ) -> Result<Invoked, StateError> {
        let spec = self
            .spec(name)
            .ok_or_else(|| self.not_found(name, qualifier))?;
        let rid = request_id();
        let version = Some(qualifier.unwrap_or("$LATEST").to_string());
        match kind {
            InvocationType::DryRun => {
                return Ok(Invoked {
                    payload: Value::String(String::new()),
                    payload_len: 0,
                    status_code: 204,
                    executed_version: None,
                    request_id: rid,
                })
            }
            InvocationType::Event => {
                let (this, name, q, event) = (
                    self.clone(),
                    name.to_string(),
                    qualifier.map(str::to_string),
                    event.clone(),
                );
                // Nobody waits for an Event invocation: its outcome is dropped, as AWS does.
                io::detach(async move {
                    let rid = request_id();
                    let _ = this.run(&spec, &name, q.as_deref(), &event, &rid).await;
                })
                .map_err(|e| StateError::new("Lambda.SdkClientException", e))?;
                return Ok(Invoked {
                    payload: Value::String(String::new()),
                    payload_len: 0,
                    status_code: 202,
                    executed_version: None,
                    request_id: rid,
                });
            }
            InvocationType::RequestResponse => {}
        }
        let (payload, len, executed) = self.run(&spec, name, qualifier, event, &rid).await?;
        Ok(Invoked {
            payload,
            payload_len: len,
            status_code: 200,
            executed_version: executed.or(version),
            request_id: rid,
        })
    }

    /// Runs the function; (payload, its text length, executed version if the runner said).
    async fn run(
        &self,
        spec: &FunctionSpec,
        name: &str,
        qualifier: Option<&str>,
        event: &Value,
        rid: &str,
    ) -> Result<(Value, usize, Option<String>), StateError> {
        match spec {
            FunctionSpec::Url(url) => {
                let reply = io::send(HttpCall {
                    method: "POST".into(),
                    url: url.clone(),
                    headers: vec![
                        ("Content-Type".into(), "application/json".into()),
                        ("X-Amz-Request-Id".into(), rid.to_string()),
                    ],
                    body: event.to_string().into_bytes(),
                    timeout: Duration::from_secs(DEFAULT_COMMAND_TIMEOUT),
                })
                .await
                .map_err(sdk_failure)?;
                let text = String::from_utf8_lossy(&reply.body).into_owned();
                if reply.header("x-amz-function-error").is_some()
                    || !(200..300).contains(&reply.status)
                {
                    return Err(function_error(&text));
                }
                let payload =
                    parse_payload(&reply.body).map_err(|m| StateError::new("Lambda.Unknown", m))?;
                Ok((payload, reply.body.len(), None))
            }
            FunctionSpec::LambdaApi(endpoint) => {
                self.run_api(endpoint, name, qualifier, event, rid).await
            }
            FunctionSpec::Command {
                argv,
                env,
                cwd,
                timeout_seconds,
            } => {
                let mut env = env.clone();
                env.push(("AWS_LAMBDA_FUNCTION_NAME".into(), name.to_string()));
                env.push((
                    "AWS_LAMBDA_FUNCTION_VERSION".into(),
                    qualifier.unwrap_or("$LATEST").to_string(),
                ));
                env.push(("AWS_REQUEST_ID".into(), rid.to_string()));
                let job = run_command(
                    argv.clone(),
                    env,
                    cwd.clone(),
                    event.to_string().into_bytes(),
                    Duration::from_secs(*timeout_seconds),
                );
                let out = io::run(job)
                    .await
                    .map_err(|e| StateError::new("Lambda.SdkClientException", e))?;
                command_result(out, rid, *timeout_seconds)
            }
        }
    }

    async fn run_api(
        &self,
        endpoint: &str,
        name: &str,
        qualifier: Option<&str>,
        event: &Value,
        rid: &str,
    ) -> Result<(Value, usize, Option<String>), StateError> {
        let mut url = format!(
            "{}/2015-03-31/functions/{}/invocations",
            endpoint.trim_end_matches('/'),
            name
        );
        if let Some(q) = qualifier {
            let mut s = form_urlencoded::Serializer::new(String::new());
            s.append_pair("Qualifier", q);
            url.push('?');
            url.push_str(&s.finish());
        }
        let reply = io::send(HttpCall {
            method: "POST".into(),
            url,
            headers: vec![
                ("Content-Type".into(), "application/json".into()),
                ("X-Amz-Invocation-Type".into(), "RequestResponse".into()),
            ],
            body: event.to_string().into_bytes(),
            timeout: Duration::from_secs(DEFAULT_COMMAND_TIMEOUT),
        })
        .await
        .map_err(sdk_failure)?;
        let text = String::from_utf8_lossy(&reply.body).into_owned();
        if !(200..300).contains(&reply.status) {
            let code = reply
                .header("x-amzn-errortype")
                .map(|t| t.split(':').next().unwrap_or(t).to_string())
                .or_else(|| {
                    serde_json::from_str::<Value>(&text)
                        .ok()?
                        .get("__type")?
                        .as_str()
                        .map(|t| t.rsplit('#').next().unwrap_or(t).to_string())
                })
                .unwrap_or_else(|| {
                    if reply.status == 404 {
                        "ResourceNotFoundException".into()
                    } else {
                        "ServiceException".into()
                    }
                });
            if code == "ResourceNotFoundException" {
                return Err(self.not_found(name, qualifier));
            }
            let message = serde_json::from_str::<Value>(&text)
                .ok()
                .and_then(|v| {
                    v.get("message")
                        .or_else(|| v.get("Message"))
                        .and_then(Value::as_str)
                        .map(str::to_string)
                })
                .unwrap_or(text);
            return Err(StateError::new(
                format!("Lambda.{code}"),
                format!(
                    "{message} (Service: AWSLambda; Status Code: {}; Error Code: {code}; Request ID: {}; Proxy: null)",
                    reply.status,
                    reply.header("x-amzn-requestid").unwrap_or(rid)
                ),
            ));
        }
        if reply.header("x-amz-function-error").is_some() {
            return Err(function_error(&text));
        }
        let payload =
            parse_payload(&reply.body).map_err(|m| StateError::new("Lambda.Unknown", m))?;
        Ok((
            payload,
            reply.body.len(),
            reply.header("x-amz-executed-version").map(str::to_string),
        ))
    }
}

fn sdk_failure(e: HttpFailure) -> StateError {
    match e {
        HttpFailure::Request(m) | HttpFailure::Socket(m) => StateError::new(
            "Lambda.SdkClientException",
            format!("Unable to execute HTTP request: {m}"),
        ),
    }
}

/// What a command run produced.
#[derive(Debug)]
struct CommandOutput {
    /// `None` when it ran past its time limit.
    status: Option<std::process::ExitStatus>,
    stdout: Vec<u8>,
    stderr: Vec<u8>,
}

async fn run_command(
    argv: Vec<String>,
    env: Vec<(String, String)>,
    cwd: Option<PathBuf>,
    input: Vec<u8>,
    limit: Duration,
) -> Result<CommandOutput, String> {
    use tokio::io::AsyncWriteExt;
    let Some((program, args)) = argv.split_first() else {
        return Err("the function's Command names no program".into());
    };
    let mut cmd = tokio::process::Command::new(program);
    cmd.args(args)
        .envs(env)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true);
    if let Some(d) = &cwd {
        cmd.current_dir(d);
    }
    let mut child = cmd
        .spawn()
        .map_err(|e| format!("cannot start {program:?}: {e}"))?;
    if let Some(mut stdin) = child.stdin.take() {
        // A function that never reads its event must not block us: write what fits, then close.
        tokio::spawn(async move {
            let _ = stdin.write_all(&input).await;
            let _ = stdin.shutdown().await;
        });
    }
    match tokio::time::timeout(limit, child.wait_with_output()).await {
        Ok(Ok(out)) => Ok(CommandOutput {
            status: Some(out.status),
            stdout: out.stdout,
            stderr: out.stderr,
        }),
        Ok(Err(e)) => Err(format!("running {program:?} failed: {e}")),
        Err(_) => Ok(CommandOutput {
            status: None,
            stdout: Vec::new(),
            stderr: Vec::new(),
        }),
    }
}

fn stderr_tail(stderr: &[u8]) -> Vec<String> {
    let text = String::from_utf8_lossy(stderr);
    let lines: Vec<&str> = text.lines().collect();
    let start = lines.len().saturating_sub(20);
    lines[start..].iter().map(|l| l.to_string()).collect()
}

fn command_result(
    out: Result<CommandOutput, String>,
    rid: &str,
    timeout_seconds: u64,
) -> Result<(Value, usize, Option<String>), StateError> {
    let out = out.map_err(|m| {
        StateError::new(
            "Runtime.InvalidEntrypoint",
            error_payload("Runtime.InvalidEntrypoint", &m, rid, Vec::new()),
        )
    })?;
    let Some(status) = out.status else {
        let message =
            format!("RequestId: {rid} Error: Task timed out after {timeout_seconds}.00 seconds");
        return Err(StateError::new(
            "Sandbox.Timedout",
            error_payload("Sandbox.Timedout", &message, rid, Vec::new()),
        ));
    };
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let parsed = parse_payload(&out.stdout);
    if let Ok(v) = &parsed {
        if is_error_object(v) {
            return Err(function_error(&text));
        }
    }
    if !status.success() {
        let code = status
            .code()
            .map(|c| format!("exit status {c}"))
            .unwrap_or_else(|| "killed by a signal".into());
        let message = format!("RequestId: {rid} Error: Runtime exited with error: {code}");
        return Err(StateError::new(
            "Runtime.ExitError",
            error_payload("Runtime.ExitError", &message, rid, stderr_tail(&out.stderr)),
        ));
    }
    match parsed {
        Ok(v) => Ok((v, out.stdout.len(), None)),
        Err(m) => Err(StateError::new(
            "Lambda.Unknown",
            error_payload("Lambda.Unknown", &m, rid, stderr_tail(&out.stderr)),
        )),
    }
}

/// The `lambda:invoke` result: the payload inside the Invoke API answer, with the SDK's
/// metadata as AWS records it.
pub fn service_output(inv: &Invoked) -> Value {
    let date = chrono::Utc::now()
        .format("%a, %d %b %Y %H:%M:%S GMT")
        .to_string();
    let trace = format!(
        "Root=1-{:08x}-{};Sampled=0",
        chrono::Utc::now().timestamp(),
        &uuid::Uuid::new_v4().simple().to_string()[..24]
    );
    let len = inv.payload_len.to_string();
    let version = inv.executed_version.clone();
    let mut all = Map::new();
    let mut single = Map::new();
    let mut header = |k: &str, v: &str| {
        all.insert(k.to_string(), json!([v]));
        single.insert(k.to_string(), json!(v));
    };
    if let Some(v) = &version {
        header("X-Amz-Executed-Version", v);
    }
    header("x-amzn-Remapped-Content-Length", "0");
    header("Connection", "keep-alive");
    header("x-amzn-RequestId", &inv.request_id);
    header("Content-Length", &len);
    header("Date", &date);
    header("X-Amzn-Trace-Id", &trace);
    header("Content-Type", "application/json");
    // AWS lists HttpHeaders sorted case-insensitively.
    let mut sorted: Vec<(String, Value)> = single.into_iter().collect();
    sorted.sort_by_key(|(k, _)| k.to_ascii_lowercase());
    let mut out = Map::new();
    if let Some(v) = version {
        out.insert("ExecutedVersion".into(), json!(v));
    }
    out.insert("Payload".into(), inv.payload.clone());
    out.insert(
        "SdkHttpMetadata".into(),
        json!({
            "AllHttpHeaders": Value::Object(all),
            "HttpHeaders": Value::Object(sorted.into_iter().collect()),
            "HttpStatusCode": inv.status_code,
        }),
    );
    out.insert(
        "SdkResponseMetadata".into(),
        json!({"RequestId": inv.request_id}),
    );
    out.insert("StatusCode".into(), json!(inv.status_code));
    Value::Object(out)
}

/// Fails a result over Step Functions' size limit, as AWS does (`what`: `lambda` for
/// `lambda:invoke`, the function ARN for a bare ARN).
pub fn check_size(result: &Value, what: &str) -> Result<(), StateError> {
    if stepwise_asl::json::text_len(result) > RESULT_LIMIT {
        return Err(StateError::new(
            names::DATA_LIMIT_EXCEEDED,
            format!("The state/task '{what}' returned a result with a size exceeding the maximum number of bytes service limit."),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_configs() {
        let c = LambdaFunctions::from_json(
            &json!({"Functions": {
                "u": {"Url": "http://x"},
                "c": {"Command": ["sh", "-c", "cat"], "Env": {"A": 1}, "WorkingDirectory": "fns", "TimeoutSeconds": 5},
                "a": {"LambdaEndpoint": "http://y"}},
                "Region": "eu-west-1"}),
            Some(Path::new("/base")),
        )
        .expect("valid");
        assert_eq!(c.spec("u"), Some(FunctionSpec::Url("http://x".into())));
        assert_eq!(
            c.spec("c"),
            Some(FunctionSpec::Command {
                argv: vec!["sh".into(), "-c".into(), "cat".into()],
                env: vec![("A".into(), "1".into())],
                cwd: Some(PathBuf::from("/base/fns")),
                timeout_seconds: 5
            })
        );
        assert_eq!(c.spec("nope"), None);
        let e = c.not_found("nope", None);
        assert_eq!(e.error, "Lambda.ResourceNotFoundException");
        assert!(e.cause.starts_with(
            "Function not found: arn:aws:lambda:eu-west-1:123456789012:function:nope:$LATEST (Service: AWSLambda; Status Code: 404;"
        ));
        let d = c.with_default_endpoint("http://z");
        assert_eq!(
            d.spec("nope"),
            Some(FunctionSpec::LambdaApi("http://z".into()))
        );
        for bad in [
            json!([]),
            json!({"Functions": {"f": {}}}),
            json!({"Functions": {"f": {"Url": "a", "Command": ["b"]}}}),
            json!({"Functions": {"f": {"Command": []}}}),
            json!({"Functions": {"f": {"Command": ["x"], "TimeoutSeconds": 0}}}),
            json!({"Functions": {"f": {"Url": "a", "Bogus": 1}}}),
            json!({"Unknown": 1}),
        ] {
            assert!(LambdaFunctions::from_json(&bad, None).is_err(), "{bad}");
        }
    }

    #[test]
    fn service_output_has_the_recorded_shape() {
        let out = service_output(&Invoked {
            payload: json!({"a": 1}),
            payload_len: 7,
            status_code: 200,
            executed_version: Some("$LATEST".into()),
            request_id: "rid".into(),
        });
        let keys: Vec<&String> = out
            .as_object()
            .map(|o| o.keys().collect())
            .unwrap_or_default();
        assert_eq!(
            keys,
            [
                "ExecutedVersion",
                "Payload",
                "SdkHttpMetadata",
                "SdkResponseMetadata",
                "StatusCode"
            ]
        );
        assert_eq!(out["SdkHttpMetadata"]["HttpHeaders"]["Content-Length"], "7");
        assert_eq!(
            out["SdkHttpMetadata"]["AllHttpHeaders"]["Content-Length"],
            json!(["7"])
        );
        assert_eq!(out["SdkResponseMetadata"]["RequestId"], "rid");
        let h: Vec<&String> = out["SdkHttpMetadata"]["HttpHeaders"]
            .as_object()
            .map(|o| o.keys().collect())
            .unwrap_or_default();
        assert_eq!(
            h,
            [
                "Connection",
                "Content-Length",
                "Content-Type",
                "Date",
                "X-Amz-Executed-Version",
                "x-amzn-Remapped-Content-Length",
                "x-amzn-RequestId",
                "X-Amzn-Trace-Id"
            ]
        );
    }

    #[test]
    fn function_errors_take_their_type() {
        let e = function_error(
            r#"{"errorMessage": "boom", "errorType": "ValueError", "stackTrace": []}"#,
        );
        assert_eq!(e.error, "ValueError");
        assert!(e.cause.contains("boom"));
        assert_eq!(function_error("oops").error, "Lambda.Unknown");
    }

    #[test]
    fn size_limit() {
        assert!(check_size(&json!("x".repeat(RESULT_LIMIT)), "lambda").is_err());
        assert!(check_size(&json!("x"), "lambda").is_ok());
    }
}
