//! Connections: how HTTP Tasks authenticate, configured locally instead of through EventBridge.
//!
//! The file mirrors EventBridge's CreateConnection request, keyed by the connection ARN the
//! state machine names in `Authentication.ConnectionArn` (or by the connection's name, the part
//! after `connection/`):
//!
//! ```json
//! {"Connections": {
//!   "arn:aws:events:us-east-1:123456789012:connection/github/1a2b": {
//!     "AuthorizationType": "API_KEY",
//!     "AuthParameters": {
//!       "ApiKeyAuthParameters": {"ApiKeyName": "Authorization", "ApiKeyValue": "${env:GITHUB_TOKEN}"},
//!       "InvocationHttpParameters": {
//!         "HeaderParameters": [{"Key": "Accept", "Value": "application/json"}],
//!         "QueryStringParameters": [], "BodyParameters": []}}},
//!   "basic-one": {"AuthorizationType": "BASIC",
//!     "AuthParameters": {"BasicAuthParameters": {"Username": "u", "Password": "p"}}},
//!   "oauth-one": {"AuthorizationType": "OAUTH_CLIENT_CREDENTIALS",
//!     "AuthParameters": {"OAuthParameters": {
//!       "AuthorizationEndpoint": "https://auth.example.com/token", "HttpMethod": "POST",
//!       "ClientParameters": {"ClientID": "id", "ClientSecret": "${env:SECRET}"},
//!       "OAuthHttpParameters": {"BodyParameters": [{"Key": "scope", "Value": "read"}]}}}},
//!   "open": {"AuthorizationType": "NONE"}}}
//! ```
//!
//! Any string value written `${env:NAME}` is read from the environment when the file loads,
//! so secrets stay out of the file. `NONE` is ours (EventBridge has no such type): a connection
//! that adds only its invocation parameters, or nothing.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use base64::Engine as _;
use serde_json::Value;

/// A key/value pair of `InvocationHttpParameters` / `OAuthHttpParameters`.
pub type Param = (String, String);

/// Extra parameters a connection adds to every request.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HttpParameters {
    pub headers: Vec<Param>,
    pub query: Vec<Param>,
    pub body: Vec<Param>,
}

/// How a connection authenticates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Auth {
    None,
    Basic {
        username: String,
        password: String,
    },
    ApiKey {
        name: String,
        value: String,
    },
    OAuthClientCredentials {
        endpoint: String,
        method: String,
        client_id: String,
        client_secret: String,
        params: HttpParameters,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Connection {
    pub arn: String,
    pub auth: Auth,
    pub invocation: HttpParameters,
}

/// The configured connections, with the OAuth tokens fetched so far.
#[derive(Debug, Default)]
pub struct Connections {
    by_key: HashMap<String, Connection>,
    tokens: Mutex<HashMap<String, (String, Option<Instant>)>>,
}

fn expand_env(s: &str) -> Result<String, String> {
    match s.strip_prefix("${env:").and_then(|r| r.strip_suffix('}')) {
        Some(var) => std::env::var(var).map_err(|_| {
            format!("environment variable {var} (named as ${{env:{var}}}) is not set")
        }),
        None => Ok(s.to_string()),
    }
}

fn string(v: &Value, path: &str, key: &str) -> Result<String, String> {
    match v.get(key) {
        Some(Value::String(s)) => expand_env(s).map_err(|e| format!("{path}.{key}: {e}")),
        Some(other) => Ok(other.to_string()),
        None => Err(format!("{path}.{key} is missing")),
    }
}

fn params(v: Option<&Value>, path: &str) -> Result<HttpParameters, String> {
    let Some(v) = v else {
        return Ok(HttpParameters::default());
    };
    let list = |key: &str| -> Result<Vec<Param>, String> {
        let Some(items) = v.get(key) else {
            return Ok(Vec::new());
        };
        let items = items
            .as_array()
            .ok_or_else(|| format!("{path}.{key} must be a list of {{Key, Value}}"))?;
        items
            .iter()
            .map(|item| {
                Ok((
                    string(item, &format!("{path}.{key}[]"), "Key")?,
                    string(item, &format!("{path}.{key}[]"), "Value")?,
                ))
            })
            .collect()
    };
    Ok(HttpParameters {
        headers: list("HeaderParameters")?,
        query: list("QueryStringParameters")?,
        body: list("BodyParameters")?,
    })
}

fn parse_connection(arn: &str, v: &Value) -> Result<Connection, String> {
    let path = format!("Connections.\"{arn}\"");
    let kind = v
        .get("AuthorizationType")
        .and_then(Value::as_str)
        .ok_or_else(|| format!("{path}.AuthorizationType is missing"))?;
    let auth_params = v.get("AuthParameters").cloned().unwrap_or(Value::Null);
    let ap = format!("{path}.AuthParameters");
    let section = |name: &str| -> Result<&Value, String> {
        auth_params
            .get(name)
            .ok_or_else(|| format!("{ap}.{name} is missing"))
    };
    let auth = match kind {
        "NONE" => Auth::None,
        "BASIC" => {
            let b = section("BasicAuthParameters")?;
            let p = format!("{ap}.BasicAuthParameters");
            Auth::Basic {
                username: string(b, &p, "Username")?,
                password: string(b, &p, "Password")?,
            }
        }
        "API_KEY" => {
            let k = section("ApiKeyAuthParameters")?;
            let p = format!("{ap}.ApiKeyAuthParameters");
            Auth::ApiKey {
                name: string(k, &p, "ApiKeyName")?,
                value: string(k, &p, "ApiKeyValue")?,
            }
        }
        "OAUTH_CLIENT_CREDENTIALS" => {
            let o = section("OAuthParameters")?;
            let p = format!("{ap}.OAuthParameters");
            let client = o
                .get("ClientParameters")
                .ok_or_else(|| format!("{p}.ClientParameters is missing"))?;
            let cp = format!("{p}.ClientParameters");
            Auth::OAuthClientCredentials {
                endpoint: string(o, &p, "AuthorizationEndpoint")?,
                method: o
                    .get("HttpMethod")
                    .and_then(Value::as_str)
                    .unwrap_or("POST")
                    .to_ascii_uppercase(),
                client_id: string(client, &cp, "ClientID")?,
                client_secret: string(client, &cp, "ClientSecret")?,
                params: params(o.get("OAuthHttpParameters"), &format!("{p}.OAuthHttpParameters"))?,
            }
        }
        other => {
            return Err(format!(
                "{path}.AuthorizationType '{other}' is not one of BASIC, API_KEY, OAUTH_CLIENT_CREDENTIALS, NONE"
            ))
        }
    };
    Ok(Connection {
        arn: arn.to_string(),
        auth,
        invocation: params(
            auth_params.get("InvocationHttpParameters"),
            &format!("{ap}.InvocationHttpParameters"),
        )?,
    })
}

/// `arn:aws:events:REGION:ACCOUNT:connection/NAME/ID` → `NAME`.
fn connection_name(arn: &str) -> Option<&str> {
    let rest = arn.split_once(":connection/")?.1;
    Some(rest.split('/').next().unwrap_or(rest))
}

impl Connections {
    pub fn from_json(v: &Value) -> Result<Connections, String> {
        let map = v
            .get("Connections")
            .and_then(Value::as_object)
            .ok_or("a connections file holds {\"Connections\": {ARN or name: connection}}")?;
        let mut by_key = HashMap::new();
        for (key, c) in map {
            by_key.insert(key.clone(), parse_connection(key, c)?);
        }
        Ok(Connections {
            by_key,
            tokens: Mutex::default(),
        })
    }

    pub fn load(path: &Path) -> Result<Connections, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        let v: Value = serde_json::from_str(&text)
            .map_err(|e| format!("{}: not valid JSON: {e}", path.display()))?;
        Connections::from_json(&v).map_err(|e| format!("{}: {e}", path.display()))
    }

    /// The connection for an ARN: by the exact ARN, else by its name.
    pub fn get(&self, arn: &str) -> Option<&Connection> {
        self.by_key
            .get(arn)
            .or_else(|| connection_name(arn).and_then(|n| self.by_key.get(n)))
    }

    pub fn is_empty(&self) -> bool {
        self.by_key.is_empty()
    }

    fn cached_token(&self, arn: &str) -> Option<String> {
        let tokens = self.tokens.lock().ok()?;
        let (token, expiry) = tokens.get(arn)?;
        match expiry {
            Some(t) if Instant::now() >= *t => None,
            _ => Some(token.clone()),
        }
    }

    /// The headers that authenticate a request through `conn` (fetching an OAuth token when
    /// needed; it is kept until shortly before it expires).
    pub(crate) async fn auth_headers(&self, conn: &Connection) -> Result<Vec<Param>, String> {
        match &conn.auth {
            Auth::None => Ok(Vec::new()),
            Auth::Basic { username, password } => Ok(vec![(
                "Authorization".into(),
                format!("Basic {}", basic(username, password)),
            )]),
            Auth::ApiKey { name, value } => Ok(vec![(name.clone(), value.clone())]),
            Auth::OAuthClientCredentials {
                endpoint,
                method,
                client_id,
                client_secret,
                params,
            } => {
                if let Some(t) = self.cached_token(&conn.arn) {
                    return Ok(vec![("Authorization".into(), format!("Bearer {t}"))]);
                }
                let (token, ttl) =
                    fetch_token(endpoint, method, client_id, client_secret, params).await?;
                let expiry =
                    ttl.map(|s| Instant::now() + Duration::from_secs(s.saturating_sub(30)));
                if let Ok(mut tokens) = self.tokens.lock() {
                    tokens.insert(conn.arn.clone(), (token.clone(), expiry));
                }
                Ok(vec![("Authorization".into(), format!("Bearer {token}"))])
            }
        }
    }
}

pub(crate) fn basic(user: &str, password: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"))
}

async fn fetch_token(
    endpoint: &str,
    method: &str,
    client_id: &str,
    client_secret: &str,
    params: &HttpParameters,
) -> Result<(String, Option<u64>), String> {
    let mut form = form_urlencoded::Serializer::new(String::new());
    form.append_pair("grant_type", "client_credentials");
    for (k, v) in &params.body {
        form.append_pair(k, v);
    }
    let body = form.finish();
    let mut url = endpoint.to_string();
    if !params.query.is_empty() {
        let mut q = form_urlencoded::Serializer::new(String::new());
        for (k, v) in &params.query {
            q.append_pair(k, v);
        }
        url.push(if url.contains('?') { '&' } else { '?' });
        url.push_str(&q.finish());
    }
    let mut headers = vec![
        (
            "Authorization".to_string(),
            format!("Basic {}", basic(client_id, client_secret)),
        ),
        (
            "Content-Type".to_string(),
            "application/x-www-form-urlencoded".to_string(),
        ),
        ("Accept".to_string(), "application/json".to_string()),
    ];
    headers.extend(params.headers.iter().cloned());
    let reply = crate::io::send(crate::io::HttpCall {
        method: method.to_string(),
        url,
        headers,
        body: body.into_bytes(),
        timeout: Duration::from_secs(30),
    })
    .await
    .map_err(|e| match e {
        crate::io::HttpFailure::Request(m) | crate::io::HttpFailure::Socket(m) => {
            format!("the OAuth token request to {endpoint} failed: {m}")
        }
    })?;
    if !(200..300).contains(&reply.status) {
        return Err(format!(
            "the OAuth token endpoint {endpoint} answered {}: {}",
            reply.status,
            String::from_utf8_lossy(&reply.body)
        ));
    }
    let v: Value = serde_json::from_slice(&reply.body)
        .map_err(|_| format!("the OAuth token endpoint {endpoint} did not answer JSON"))?;
    let token = v
        .get("access_token")
        .and_then(Value::as_str)
        .ok_or_else(|| format!("the OAuth token endpoint {endpoint} gave no access_token"))?;
    Ok((
        token.to_string(),
        v.get("expires_in").and_then(Value::as_u64),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn parses_each_kind() {
        std::env::set_var("STEPWISE_TEST_SECRET_XYZ", "s3cret");
        let c = Connections::from_json(&json!({"Connections": {
            "arn:aws:events:us-east-1:1:connection/api/abc": {
                "AuthorizationType": "API_KEY",
                "AuthParameters": {
                    "ApiKeyAuthParameters": {"ApiKeyName": "x-api-key", "ApiKeyValue": "${env:STEPWISE_TEST_SECRET_XYZ}"},
                    "InvocationHttpParameters": {"HeaderParameters": [{"Key": "A", "Value": "1"}]}}},
            "basic": {"AuthorizationType": "BASIC",
                "AuthParameters": {"BasicAuthParameters": {"Username": "u", "Password": "p"}}},
            "oauth": {"AuthorizationType": "OAUTH_CLIENT_CREDENTIALS",
                "AuthParameters": {"OAuthParameters": {"AuthorizationEndpoint": "http://x/token",
                    "ClientParameters": {"ClientID": "i", "ClientSecret": "s"}}}},
            "none": {"AuthorizationType": "NONE"}
        }}))
        .expect("valid");
        let api = c
            .get("arn:aws:events:us-east-1:1:connection/api/abc")
            .expect("by arn");
        assert_eq!(
            api.auth,
            Auth::ApiKey {
                name: "x-api-key".into(),
                value: "s3cret".into()
            }
        );
        assert_eq!(api.invocation.headers, vec![("A".into(), "1".into())]);
        assert!(c
            .get("arn:aws:events:us-east-1:1:connection/basic/zzz")
            .is_some());
        assert!(matches!(
            c.get("oauth").map(|c| &c.auth),
            Some(Auth::OAuthClientCredentials { method, .. }) if method == "POST"
        ));
        assert!(c
            .get("arn:aws:events:us-east-1:1:connection/other/1")
            .is_none());
    }

    #[test]
    fn rejects_bad_files() {
        for bad in [
            json!({}),
            json!({"Connections": {"a": {}}}),
            json!({"Connections": {"a": {"AuthorizationType": "BASIC"}}}),
            json!({"Connections": {"a": {"AuthorizationType": "DIGEST"}}}),
            json!({"Connections": {"a": {"AuthorizationType": "API_KEY",
                "AuthParameters": {"ApiKeyAuthParameters": {"ApiKeyName": "k", "ApiKeyValue": "${env:STEPWISE_SURELY_UNSET_VAR}"}}}}}),
        ] {
            assert!(Connections::from_json(&bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn basic_auth_is_base64() {
        assert_eq!(
            basic("Aladdin", "open sesame"),
            "QWxhZGRpbjpvcGVuIHNlc2FtZQ=="
        );
    }
}
