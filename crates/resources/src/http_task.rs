//! HTTP Task (`arn:aws:states:::http:invoke`): calls an HTTP(S) API and answers as AWS does.
//!
//! Parameters: `ApiEndpoint`, `Method` (GET, POST, PUT, DELETE, PATCH, OPTIONS, HEAD),
//! `Authentication.ConnectionArn` (a connection of [`Connections`]), `Headers`,
//! `QueryParameters`, `RequestBody` and `Transform` (`RequestBodyEncoding`: `NONE` or
//! `URL_ENCODED`, `RequestEncodingOptions.ArrayFormat`: `INDICES` (default), `REPEAT`,
//! `COMMAS`, `BRACKETS`).
//!
//! The result is `{"Headers": {name: [values]}, "ResponseBody": …, "StatusCode": n,
//! "StatusText": "…"}`, the body parsed when the response is JSON. A non-2xx answer fails with
//! `States.Http.StatusCode.NNN`, its cause being that same object as JSON text; no answer
//! (refused, TLS, reset, over 60 seconds) fails with `States.Http.Socket`.
//!
//! A connection's invocation parameters are merged in, its values winning over the task's on
//! the same key (credentials cannot be overridden from a definition). Locally, a task without
//! `Authentication` is sent as is; one naming a connection that is not configured fails.

use std::sync::Arc;
use std::time::Duration;

use serde_json::{Map, Value};
use stepwise_asl::error::{names, StateError};

use crate::connections::Connections;
use crate::io::{self, HttpCall, HttpFailure, HttpReply};

/// Error names AWS uses for HTTP Task failures.
pub const SOCKET_ERROR: &str = "States.Http.Socket";
pub const STATUS_ERROR_PREFIX: &str = "States.Http.StatusCode.";

/// Longest an HTTP Task waits for its answer.
pub const HTTP_TIMEOUT: Duration = Duration::from_secs(60);

const METHODS: [&str; 7] = ["GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "HEAD"];

/// Headers the caller may not set: the transport owns them.
const DROPPED_HEADERS: [&str; 5] = [
    "host",
    "content-length",
    "connection",
    "transfer-encoding",
    "expect",
];

/// How `URL_ENCODED` writes arrays.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ArrayFormat {
    /// `a[0]=x&a[1]=y`
    Indices,
    /// `a=x&a=y`
    Repeat,
    /// `a=x,y`
    Commas,
    /// `a[]=x&a[]=y`
    Brackets,
}

fn scalar_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

fn flatten(key: &str, v: &Value, format: ArrayFormat, out: &mut Vec<(String, String)>) {
    match v {
        Value::Object(m) => {
            for (k, child) in m {
                flatten(&format!("{key}[{k}]"), child, format, out);
            }
        }
        Value::Array(items) => match format {
            ArrayFormat::Commas => out.push((
                key.to_string(),
                items.iter().map(scalar_text).collect::<Vec<_>>().join(","),
            )),
            _ => {
                for (i, item) in items.iter().enumerate() {
                    let k = match format {
                        ArrayFormat::Indices => format!("{key}[{i}]"),
                        ArrayFormat::Brackets => format!("{key}[]"),
                        _ => key.to_string(),
                    };
                    flatten(&k, item, format, out);
                }
            }
        },
        other => out.push((key.to_string(), scalar_text(other))),
    }
}

/// `application/x-www-form-urlencoded` text of a JSON object (nested objects as `a[b]`).
pub fn url_encode(body: &Map<String, Value>, format: ArrayFormat) -> String {
    let mut pairs = Vec::new();
    for (k, v) in body {
        flatten(k, v, format, &mut pairs);
    }
    let mut s = form_urlencoded::Serializer::new(String::new());
    for (k, v) in &pairs {
        s.append_pair(k, v);
    }
    s.finish()
}

fn bad_params(msg: impl Into<String>) -> StateError {
    StateError::new(names::RUNTIME, msg.into())
}

/// The request a task's parameters describe, before the connection is applied.
#[derive(Debug, Clone, PartialEq)]
pub struct HttpTaskRequest {
    pub method: String,
    pub endpoint: String,
    pub connection_arn: Option<String>,
    pub headers: Vec<(String, String)>,
    pub query: Vec<(String, String)>,
    pub body: Option<Value>,
    pub url_encoded: bool,
    pub array_format: ArrayFormat,
}

impl HttpTaskRequest {
    /// Reads the task's parameters.
    pub fn from_parameters(p: &Value) -> Result<HttpTaskRequest, StateError> {
        let p = p
            .as_object()
            .ok_or_else(|| bad_params("The HTTP Task's parameters must be an object"))?;
        let endpoint = p
            .get("ApiEndpoint")
            .and_then(Value::as_str)
            .ok_or_else(|| bad_params("The HTTP Task needs a string 'ApiEndpoint'"))?
            .to_string();
        let method = p
            .get("Method")
            .and_then(Value::as_str)
            .ok_or_else(|| bad_params("The HTTP Task needs a string 'Method'"))?
            .to_ascii_uppercase();
        if !METHODS.contains(&method.as_str()) {
            return Err(bad_params(format!(
                "The HTTP Task's Method '{method}' is not one of {}",
                METHODS.join(", ")
            )));
        }
        let connection_arn = ["Authentication", "InvocationConfig"]
            .iter()
            .find_map(|k| p.get(*k)?.get("ConnectionArn")?.as_str())
            .map(str::to_string);
        let pairs = |key: &str, repeat_arrays: bool| -> Result<Vec<(String, String)>, StateError> {
            match p.get(key) {
                None | Some(Value::Null) => Ok(Vec::new()),
                Some(Value::Object(m)) => {
                    let mut out = Vec::new();
                    for (k, v) in m {
                        match v {
                            Value::Array(items) if repeat_arrays => {
                                out.extend(items.iter().map(|i| (k.clone(), scalar_text(i))))
                            }
                            other => out.push((k.clone(), scalar_text(other))),
                        }
                    }
                    Ok(out)
                }
                Some(_) => Err(bad_params(format!(
                    "The HTTP Task's '{key}' must be an object"
                ))),
            }
        };
        let transform = p.get("Transform");
        let encoding = transform
            .and_then(|t| t.get("RequestBodyEncoding"))
            .and_then(Value::as_str)
            .unwrap_or("NONE");
        let url_encoded = match encoding {
            "NONE" => false,
            "URL_ENCODED" => true,
            other => {
                return Err(bad_params(format!(
                    "Transform.RequestBodyEncoding '{other}' is not NONE or URL_ENCODED"
                )))
            }
        };
        let array_format = match transform
            .and_then(|t| t.get("RequestEncodingOptions"))
            .and_then(|o| o.get("ArrayFormat"))
            .and_then(Value::as_str)
            .unwrap_or("INDICES")
        {
            "INDICES" => ArrayFormat::Indices,
            "REPEAT" => ArrayFormat::Repeat,
            "COMMAS" => ArrayFormat::Commas,
            "BRACKETS" => ArrayFormat::Brackets,
            other => {
                return Err(bad_params(format!(
                "Transform.RequestEncodingOptions.ArrayFormat '{other}' is not INDICES, REPEAT, COMMAS or BRACKETS"
            )))
            }
        };
        Ok(HttpTaskRequest {
            method,
            endpoint,
            connection_arn,
            headers: pairs("Headers", false)?,
            query: pairs("QueryParameters", true)?,
            body: p.get("RequestBody").cloned(),
            url_encoded,
            array_format,
        })
    }

    /// Applies a connection's invocation parameters and auth headers, then builds the call.
    pub(crate) fn into_call(
        self,
        invocation: &crate::connections::HttpParameters,
        auth_headers: Vec<(String, String)>,
    ) -> HttpCall {
        let mut headers: Vec<(String, String)> = Vec::new();
        let set = |k: &str, v: &str, headers: &mut Vec<(String, String)>| {
            headers.retain(|(h, _)| !h.eq_ignore_ascii_case(k));
            if !DROPPED_HEADERS.contains(&k.to_ascii_lowercase().as_str()) {
                headers.push((k.to_string(), v.to_string()));
            }
        };
        for (k, v) in &self.headers {
            set(k, v, &mut headers);
        }
        for (k, v) in invocation.headers.iter().chain(auth_headers.iter()) {
            set(k, v, &mut headers);
        }
        let mut query = self.query;
        for (k, v) in &invocation.query {
            query.retain(|(q, _)| q != k);
            query.push((k.clone(), v.clone()));
        }
        let mut body = self.body;
        if !invocation.body.is_empty() {
            let mut obj = match body {
                Some(Value::Object(m)) => m,
                _ => Map::new(),
            };
            for (k, v) in &invocation.body {
                obj.insert(k.clone(), Value::String(v.clone()));
            }
            body = Some(Value::Object(obj));
        }
        let has_content_type = headers
            .iter()
            .any(|(k, _)| k.eq_ignore_ascii_case("content-type"));
        let bytes = match (&body, self.url_encoded) {
            (None, _) => Vec::new(),
            (Some(Value::String(s)), _) => s.clone().into_bytes(),
            (Some(Value::Object(m)), true) => {
                if !has_content_type {
                    headers.push((
                        "Content-Type".into(),
                        "application/x-www-form-urlencoded".into(),
                    ));
                }
                url_encode(m, self.array_format).into_bytes()
            }
            (Some(v), _) => {
                if !has_content_type {
                    headers.push((
                        "Content-Type".into(),
                        "application/json; charset=UTF-8".into(),
                    ));
                }
                v.to_string().into_bytes()
            }
        };
        if !headers
            .iter()
            .any(|(k, _)| k.eq_ignore_ascii_case("user-agent"))
        {
            headers.push(("User-Agent".into(), "Stepwise|HttpInvoke".into()));
        }
        let mut url = self.endpoint;
        if !query.is_empty() {
            let mut s = form_urlencoded::Serializer::new(String::new());
            for (k, v) in &query {
                s.append_pair(k, v);
            }
            url.push(if url.contains('?') { '&' } else { '?' });
            url.push_str(&s.finish());
        }
        HttpCall {
            method: self.method,
            url,
            headers,
            body: bytes,
            timeout: HTTP_TIMEOUT,
        }
    }
}

fn is_json(content_type: Option<&str>) -> bool {
    content_type.is_some_and(|c| {
        let mime = c
            .split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase();
        mime == "application/json" || mime.ends_with("+json")
    })
}

/// The task result for an answer: headers as lists, the body parsed when it is JSON.
pub(crate) fn shape_reply(reply: &HttpReply) -> Value {
    let mut headers = Map::new();
    for (k, v) in &reply.headers {
        match headers.get_mut(k) {
            Some(Value::Array(list)) => list.push(Value::String(v.clone())),
            _ => {
                headers.insert(k.clone(), Value::Array(vec![Value::String(v.clone())]));
            }
        }
    }
    let text = String::from_utf8_lossy(&reply.body).into_owned();
    let body = if is_json(reply.header("content-type")) {
        serde_json::from_str(&text).unwrap_or(Value::String(text))
    } else {
        Value::String(text)
    };
    let mut out = Map::new();
    out.insert("Headers".into(), Value::Object(headers));
    out.insert("ResponseBody".into(), body);
    out.insert("StatusCode".into(), Value::from(reply.status));
    out.insert("StatusText".into(), Value::String(reply.reason.clone()));
    Value::Object(out)
}

/// Runs HTTP Tasks.
#[derive(Debug, Clone, Default)]
pub struct HttpTasks {
    connections: Arc<Connections>,
}

impl HttpTasks {
    pub fn new(connections: Arc<Connections>) -> HttpTasks {
        HttpTasks { connections }
    }

    /// Performs one HTTP Task with these (already evaluated) parameters.
    pub async fn invoke(&self, parameters: &Value) -> Result<Value, StateError> {
        let req = HttpTaskRequest::from_parameters(parameters)?;
        let (invocation, auth) = match &req.connection_arn {
            None => (Default::default(), Vec::new()),
            Some(arn) => {
                let conn = self.connections.get(arn).ok_or_else(|| {
                    StateError::new(
                        names::RUNTIME,
                        format!(
                            "The HTTP Task names connection '{arn}', which is not configured: add it to the connections file (--connections FILE / STEPWISE_CONNECTIONS)"
                        ),
                    )
                })?;
                let auth = self
                    .connections
                    .auth_headers(conn)
                    .await
                    .map_err(|e| StateError::new(names::TASK_FAILED, e))?;
                (conn.invocation.clone(), auth)
            }
        };
        let call = req.into_call(&invocation, auth);
        let reply = io::send(call).await.map_err(|e| match e {
            HttpFailure::Request(m) => StateError::new(names::RUNTIME, m),
            HttpFailure::Socket(m) => StateError::new(SOCKET_ERROR, m),
        })?;
        let out = shape_reply(&reply);
        if (200..300).contains(&reply.status) {
            Ok(out)
        } else {
            Err(StateError::new(
                format!("{STATUS_ERROR_PREFIX}{}", reply.status),
                out.to_string(),
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::connections::HttpParameters;
    use serde_json::json;

    fn encode(v: Value, f: ArrayFormat) -> String {
        match v {
            Value::Object(m) => url_encode(&m, f),
            _ => unreachable!(),
        }
    }

    #[test]
    fn url_encodes_arrays_each_way() {
        let body = json!({"array": ["a", "b", "c"], "s": "x y"});
        assert_eq!(
            encode(body.clone(), ArrayFormat::Indices),
            "array%5B0%5D=a&array%5B1%5D=b&array%5B2%5D=c&s=x+y"
        );
        assert_eq!(
            encode(body.clone(), ArrayFormat::Repeat),
            "array=a&array=b&array=c&s=x+y"
        );
        assert_eq!(
            encode(body.clone(), ArrayFormat::Commas),
            "array=a%2Cb%2Cc&s=x+y"
        );
        assert_eq!(
            encode(body, ArrayFormat::Brackets),
            "array%5B%5D=a&array%5B%5D=b&array%5B%5D=c&s=x+y"
        );
        assert_eq!(
            encode(json!({"o": {"k": 1, "n": null}}), ArrayFormat::Indices),
            "o%5Bk%5D=1&o%5Bn%5D="
        );
    }

    #[test]
    fn reads_parameters() {
        let r = HttpTaskRequest::from_parameters(&json!({
            "ApiEndpoint": "https://api.example.com/x",
            "Method": "post",
            "Authentication": {"ConnectionArn": "arn:c"},
            "Headers": {"X-N": 1},
            "QueryParameters": {"q": ["a", "b"]},
            "RequestBody": {"a": 1},
            "Transform": {"RequestBodyEncoding": "URL_ENCODED",
                          "RequestEncodingOptions": {"ArrayFormat": "BRACKETS"}}
        }))
        .expect("valid");
        assert_eq!(r.method, "POST");
        assert_eq!(r.connection_arn.as_deref(), Some("arn:c"));
        assert_eq!(r.headers, vec![("X-N".into(), "1".into())]);
        assert_eq!(
            r.query,
            vec![("q".into(), "a".into()), ("q".into(), "b".into())]
        );
        assert!(r.url_encoded);
        assert_eq!(r.array_format, ArrayFormat::Brackets);
        for bad in [
            json!({"Method": "GET"}),
            json!({"ApiEndpoint": "https://x"}),
            json!({"ApiEndpoint": "https://x", "Method": "TRACE"}),
            json!({"ApiEndpoint": "https://x", "Method": "GET", "Headers": []}),
            json!({"ApiEndpoint": "https://x", "Method": "GET", "Transform": {"RequestBodyEncoding": "XML"}}),
            json!("x"),
        ] {
            let e = HttpTaskRequest::from_parameters(&bad).expect_err("invalid");
            assert_eq!(e.error, names::RUNTIME);
        }
    }

    #[test]
    fn connection_parameters_win() {
        let r = HttpTaskRequest::from_parameters(&json!({
            "ApiEndpoint": "http://h/p?x=1", "Method": "POST",
            "Headers": {"A": "task", "Host": "evil", "B": "task"},
            "QueryParameters": {"k": "task"},
            "RequestBody": {"a": "task", "b": "task"}
        }))
        .expect("valid");
        let conn = HttpParameters {
            headers: vec![("a".into(), "conn".into())],
            query: vec![("k".into(), "conn".into())],
            body: vec![("b".into(), "conn".into())],
        };
        let call = r.into_call(&conn, vec![("Authorization".into(), "Basic x".into())]);
        assert_eq!(call.url, "http://h/p?x=1&k=conn");
        let h: Vec<(&str, &str)> = call
            .headers
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        assert_eq!(
            h,
            [
                ("B", "task"),
                ("a", "conn"),
                ("Authorization", "Basic x"),
                ("Content-Type", "application/json; charset=UTF-8"),
                ("User-Agent", "Stepwise|HttpInvoke")
            ]
        );
        assert_eq!(
            String::from_utf8_lossy(&call.body),
            r#"{"a":"task","b":"conn"}"#
        );
    }

    #[test]
    fn shapes_replies() {
        let reply = HttpReply {
            status: 404,
            reason: "Not Found".into(),
            headers: vec![
                ("content-type".into(), "application/problem+json".into()),
                ("set-cookie".into(), "a".into()),
                ("set-cookie".into(), "b".into()),
            ],
            body: bytes::Bytes::from_static(b"{\"m\":1}"),
        };
        assert_eq!(
            shape_reply(&reply),
            json!({"Headers": {"content-type": ["application/problem+json"], "set-cookie": ["a", "b"]},
                   "ResponseBody": {"m": 1}, "StatusCode": 404, "StatusText": "Not Found"})
        );
        let text = HttpReply {
            headers: vec![("content-type".into(), "text/plain".into())],
            body: bytes::Bytes::from_static(b"{\"m\":1}"),
            ..reply
        };
        assert_eq!(shape_reply(&text)["ResponseBody"], json!("{\"m\":1}"));
    }
}
