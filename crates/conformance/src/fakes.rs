//! Fake Amazon SQS (`sqs:sendMessage`) and SNS (`sns:publish`) for the API backend, plugged
//! into the service as integrations so callback cases run without AWS. They keep what was sent
//! (the harness reads task tokens from it, as the tests read their queues) and answer in the
//! shape the recordings show for the optimized integrations: the SDK's response members plus
//! `SdkHttpMetadata`/`SdkResponseMetadata`, and `SQS.`/`SNS.` errors whose cause carries the
//! Java SDK's `(Service: …; Status Code: …; Error Code: …; Request ID: …; Proxy: null)` tail.

use std::collections::BTreeMap;
use std::sync::Mutex;

use futures::future::LocalBoxFuture;
use md5::{Digest, Md5};
use serde_json::{json, Map, Value};
use stepwise_asl::error::StateError;
use stepwise_resources::arn::{self, Pattern, Resource};
use stepwise_resources::{Invocation, ServiceIntegration};

/// One message sent to a queue.
#[derive(Debug, Clone, PartialEq)]
pub struct SentMessage {
    pub queue_url: String,
    /// The body as SQS stores it (JSON text for an object body).
    pub body: String,
}

#[derive(Debug, Default)]
struct State {
    sent: Vec<SentMessage>,
    /// How many of `sent` the harness has taken.
    taken: usize,
    /// Existing topics by ARN: whether each is FIFO.
    topics: BTreeMap<String, bool>,
    published: Vec<Value>,
}

/// The fake services of one case.
#[derive(Debug, Default)]
pub struct FakeServices {
    state: Mutex<State>,
}

/// Which fake performs a resource.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fake {
    SendMessage,
    Publish,
}

fn classify(resource: &str) -> Option<Fake> {
    match arn::parse(resource) {
        Resource::Service {
            service,
            action,
            pattern: Pattern::RequestResponse | Pattern::WaitForTaskToken,
            sdk: false,
        } => match (service.as_str(), action.as_str()) {
            ("sqs", "sendMessage") => Some(Fake::SendMessage),
            ("sns", "publish") => Some(Fake::Publish),
            _ => None,
        },
        _ => None,
    }
}

/// Whether a resource of an `sqs`/`sns` integration is one these fakes perform.
pub fn fakes_resource(resource: &str) -> bool {
    classify(resource).is_some()
}

fn md5_hex(bytes: &[u8]) -> String {
    hex::encode(Md5::digest(bytes))
}

/// SQS's `MD5OfMessageAttributes`: over the attributes sorted by name, each as its
/// length-prefixed name and data type, a transport byte (1 string, 2 binary) and the
/// length-prefixed value (AWS SQS developer guide, "Calculating the MD5 message digest for
/// message attributes").
fn md5_of_attributes(attrs: &Map<String, Value>) -> String {
    fn put(out: &mut Vec<u8>, b: &[u8]) {
        out.extend_from_slice(&(b.len() as u32).to_be_bytes());
        out.extend_from_slice(b);
    }
    let mut names: Vec<&String> = attrs.keys().collect();
    names.sort();
    let mut out = Vec::new();
    for name in names {
        let a = &attrs[name];
        let kind = a
            .get("DataType")
            .and_then(Value::as_str)
            .unwrap_or("String");
        put(&mut out, name.as_bytes());
        put(&mut out, kind.as_bytes());
        match a.get("BinaryValue").and_then(Value::as_str) {
            Some(b) if kind.starts_with("Binary") => {
                out.push(2);
                put(&mut out, b.as_bytes());
            }
            _ => {
                out.push(1);
                let v = a.get("StringValue").and_then(Value::as_str).unwrap_or("");
                put(&mut out, v.as_bytes());
            }
        }
    }
    md5_hex(&out)
}

fn http_date() -> String {
    chrono::Utc::now()
        .format("%a, %d %b %Y %H:%M:%S GMT")
        .to_string()
}

/// The Java SDK's metadata members of an integration's answer.
fn with_sdk_metadata(mut out: Map<String, Value>, body_len: usize, content_type: &str) -> Value {
    let request_id = uuid::Uuid::new_v4().to_string();
    let date = http_date();
    let length = body_len.to_string();
    out.insert(
        "SdkHttpMetadata".into(),
        json!({
            "AllHttpHeaders": {
                "x-amzn-RequestId": [request_id],
                "connection": ["keep-alive"],
                "Content-Length": [length],
                "Date": [date],
                "Content-Type": [content_type],
            },
            "HttpHeaders": {
                "connection": "keep-alive",
                "Content-Length": length,
                "Content-Type": content_type,
                "Date": date,
                "x-amzn-RequestId": request_id,
            },
            "HttpStatusCode": 200,
        }),
    );
    out.insert(
        "SdkResponseMetadata".into(),
        json!({ "RequestId": request_id }),
    );
    Value::Object(out)
}

/// An error as the optimized integrations raise it (`SQS.AmazonSQSException`, …).
fn service_error(error: &str, message: &str, service: &str, status: u16, code: &str) -> StateError {
    StateError::new(
        error,
        format!(
            "{message} (Service: {service}; Status Code: {status}; Error Code: {code}; Request ID: {}; Proxy: null)",
            uuid::Uuid::new_v4()
        ),
    )
}

/// A message body or SNS message as sent: text as is, anything else as JSON text.
fn as_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

impl FakeServices {
    pub fn new() -> FakeServices {
        FakeServices::default()
    }

    /// Makes a topic exist (`fifo`: a FIFO topic, which needs a MessageGroupId).
    pub fn create_topic(&self, arn: &str, fifo: bool) {
        self.lock().topics.insert(arn.to_string(), fifo);
    }

    pub fn delete_topic(&self, arn: &str) {
        self.lock().topics.remove(arn);
    }

    /// Messages sent since the last call.
    pub fn take_new_messages(&self) -> Vec<SentMessage> {
        let mut s = self.lock();
        let new = s.sent[s.taken..].to_vec();
        s.taken = s.sent.len();
        new
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn send_message(&self, p: &Value) -> Result<Value, StateError> {
        let missing = |name: &str| {
            service_error(
                "SQS.AmazonSQSException",
                &format!("The request must contain the parameter {name}."),
                "AmazonSQS",
                400,
                "MissingParameter",
            )
        };
        let queue_url = match p.get("QueueUrl") {
            Some(Value::String(u)) => u.clone(),
            _ => return Err(missing("QueueUrl")),
        };
        let body = match p.get("MessageBody") {
            None | Some(Value::Null) => return Err(missing("MessageBody")),
            Some(b) => as_text(b),
        };
        let mut out = Map::new();
        if let Some(Value::Object(attrs)) = p.get("MessageAttributes") {
            out.insert(
                "MD5OfMessageAttributes".into(),
                Value::from(md5_of_attributes(attrs)),
            );
        }
        out.insert(
            "MD5OfMessageBody".into(),
            Value::from(md5_hex(body.as_bytes())),
        );
        out.insert(
            "MessageId".into(),
            Value::from(uuid::Uuid::new_v4().to_string()),
        );
        // SQS's JSON answer is exactly these members; its length is the Content-Length.
        let len = Value::Object(out.clone()).to_string().len();
        self.lock().sent.push(SentMessage { queue_url, body });
        Ok(with_sdk_metadata(out, len, "application/x-amz-json-1.0"))
    }

    fn publish(&self, p: &Value) -> Result<Value, StateError> {
        let topic = p.get("TopicArn").and_then(Value::as_str).unwrap_or("");
        let fifo = self.lock().topics.get(topic).copied();
        let Some(fifo) = fifo else {
            return Err(service_error(
                "SNS.NotFoundException",
                "Topic does not exist",
                "AmazonSNS",
                404,
                "NotFound",
            ));
        };
        if fifo && p.get("MessageGroupId").is_none() {
            return Err(service_error(
                "SNS.InvalidParameterException",
                "Invalid parameter: The MessageGroupId parameter is required for FIFO topics",
                "AmazonSNS",
                400,
                "InvalidParameter",
            ));
        }
        let message_id = uuid::Uuid::new_v4().to_string();
        let request_id = uuid::Uuid::new_v4().to_string();
        let mut out = Map::new();
        out.insert("MessageId".into(), Value::from(message_id.clone()));
        let mut sequence = String::new();
        if fifo {
            let n = self.lock().published.len() as u64 + 1;
            let s = format!("{:020}", 10_000_000_000_000_000_000u64 + n);
            sequence = format!("    <SequenceNumber>{s}</SequenceNumber>\n");
            out.insert("SequenceNumber".into(), Value::from(s));
        }
        // SNS answers in XML; its length is the Content-Length.
        let xml = format!(
            "<PublishResponse xmlns=\"http://sns.amazonaws.com/doc/2010-03-31/\">\n  <PublishResult>\n    <MessageId>{message_id}</MessageId>\n{sequence}  </PublishResult>\n  <ResponseMetadata>\n    <RequestId>{request_id}</RequestId>\n  </ResponseMetadata>\n</PublishResponse>\n"
        );
        self.lock().published.push(json!({
            "TopicArn": topic,
            "Message": p.get("Message").map(as_text),
        }));
        Ok(with_sdk_metadata(out, xml.len(), "text/xml"))
    }
}

impl ServiceIntegration for FakeServices {
    fn handles(&self, resource: &str) -> bool {
        classify(resource).is_some()
    }

    fn call<'a>(&'a self, inv: &'a Invocation) -> LocalBoxFuture<'a, Result<Value, StateError>> {
        let r = match classify(&inv.resource) {
            Some(Fake::SendMessage) => self.send_message(&inv.parameters),
            Some(Fake::Publish) => self.publish(&inv.parameters),
            None => Err(StateError::runtime(format!(
                "'{}' is not faked by the conformance harness",
                inv.resource
            ))),
        };
        Box::pin(async move { r })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inv(resource: &str, parameters: Value) -> Invocation {
        Invocation {
            resource: resource.into(),
            parameters,
            ..Invocation::default()
        }
    }

    fn call(f: &FakeServices, resource: &str, p: Value) -> Result<Value, StateError> {
        futures::executor::block_on(f.call(&inv(resource, p)))
    }

    #[test]
    fn send_message_records_and_answers_like_sqs() {
        let f = FakeServices::new();
        let r = "arn:aws:states:::sqs:sendMessage.waitForTaskToken";
        assert!(f.handles(r));
        assert!(!f.handles("arn:aws:states:::sqs:receiveMessage"));
        let out = call(&f, r, json!({"QueueUrl": "q", "MessageBody": {"a": 1}})).unwrap();
        assert_eq!(out["MD5OfMessageBody"], json!(md5_hex(b"{\"a\":1}")));
        assert_eq!(
            out["SdkHttpMetadata"]["HttpHeaders"]["Content-Length"],
            json!("106")
        );
        assert_eq!(
            f.take_new_messages(),
            vec![SentMessage {
                queue_url: "q".into(),
                body: "{\"a\":1}".into()
            }]
        );
        assert!(f.take_new_messages().is_empty());
        let e = call(&f, r, json!({"QueueUrl": "q", "MessageBody": null})).unwrap_err();
        assert_eq!(e.error, "SQS.AmazonSQSException");
        assert!(e
            .cause
            .starts_with("The request must contain the parameter MessageBody."));
    }

    #[test]
    fn publish_needs_the_topic_and_a_group_on_fifo() {
        let f = FakeServices::new();
        let r = "arn:aws:states:::sns:publish";
        let e = call(&f, r, json!({"TopicArn": "t", "Message": "m"})).unwrap_err();
        assert_eq!(e.error, "SNS.NotFoundException");
        f.create_topic("t", false);
        let out = call(&f, r, json!({"TopicArn": "t", "Message": "m"})).unwrap();
        assert_eq!(
            out["SdkHttpMetadata"]["HttpHeaders"]["Content-Length"],
            json!("294")
        );
        f.create_topic("t.fifo", true);
        let e = call(&f, r, json!({"TopicArn": "t.fifo", "Message": "m"})).unwrap_err();
        assert_eq!(e.error, "SNS.InvalidParameterException");
        let out = call(
            &f,
            r,
            json!({"TopicArn": "t.fifo", "Message": "m", "MessageGroupId": "g"}),
        )
        .unwrap();
        assert_eq!(
            out["SdkHttpMetadata"]["HttpHeaders"]["Content-Length"],
            json!("352")
        );
    }
}
