//! The outside world of executions that need more than the state machine (API backend only):
//! nested executions' target machines, activities and their workers, queues and topics, and
//! whoever answered a task token. Everything comes from the case file ([`plan`]); [`run`]
//! builds it on a fresh service and plays the actors while the execution runs.
//!
//! - `related_state_machines` are created (same names, definitions and types) before the case's
//!   own machine, so `states:startExecution` and `aws-sdk:sfn:*` find them.
//! - Activities named in a definition are created; an `sfn_activity_consumer` actor's ASL
//!   worker runs on the same server, started with `{"ActivityArn": …}` (what its template reads).
//! - `sqs:sendMessage` and `sns:publish` go to [`FakeServices`]; each message sent is the
//!   harness's to answer: the test's own `driver_calls` (SendTask*, with the token read from
//!   the message body), or the callback actor's answer.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;

use serde_json::{json, Value};
use stepwise_resources::arn::{self, Pattern, Resource};
use stepwise_resources::ServiceIntegration;

use crate::api::ServiceSession;
use crate::case::Case;
use crate::fakes::{fakes_resource, FakeServices, SentMessage};
use crate::run::{ExecRequest, RunOutput, ACCOUNT, REGION};
use crate::scenario::{
    action_name, finish_execution, start_execution, substitute, ApiSession, Started,
};

/// `needs` the API backend can meet with this module.
pub const ACTOR_NEEDS: &[&str] = &[
    "states",
    "activity",
    "activity_worker",
    "sqs",
    "sns",
    "callback_actor",
    "test_driver_calls_sfn_api",
];

/// Cases whose test deleted a resource it had created before starting the execution: the
/// capture kept the creation (a `setup_calls` entry, or the `create_activity_output` snapshot
/// key) but not the deletion, so the harness cannot read it from the case.
const DELETED_BEFORE_RUN: &[&str] = &[
    "v2__activities__test_activities__TestActivities__test_activity_task_on_deleted",
    "v2__services__test_sns_task_service__TestTaskServiceSns__test_publish_base_error_topic_arn",
];

/// LocalStack's callback helpers (`sqs_send_task_*_state_machine`) answer every message of
/// their queue; what they send is read off the recordings: the message's `Message` as the
/// task output, or this fixed error and cause.
const HELPER_FAILURE: (&str, &str) = ("Failure error", "Failure cause");

/// A state machine the case's machine references.
#[derive(Debug, Clone, PartialEq)]
pub struct Machine {
    pub name: String,
    pub definition: String,
    pub kind: String,
}

/// An activity worker: its ASL and the activity it serves.
#[derive(Debug, Clone, PartialEq)]
pub struct Worker {
    pub template: Value,
    pub activity_arn: String,
}

/// How a callback actor answers the messages of its queue.
#[derive(Debug, Clone, PartialEq)]
pub enum Responder {
    /// SendTaskSuccess with the message's `Message` member as the output.
    SucceedWithMessage { queue_url: String },
    /// SendTaskFailure with a fixed error and cause.
    Fail {
        queue_url: String,
        error: String,
        cause: String,
    },
}

/// The world a case runs in (see the module documentation).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Plan {
    pub related: Vec<Machine>,
    /// Activity names, each created (and deleted again when `resources_deleted`).
    pub activities: Vec<String>,
    pub workers: Vec<Worker>,
    /// Topic ARNs with whether each is FIFO.
    pub topics: Vec<(String, bool)>,
    /// The test deleted its activity/topic before running (see [`DELETED_BEFORE_RUN`]).
    pub resources_deleted: bool,
    /// The test's own SendTask* calls, one group per message it read (a group ends with its
    /// success or failure call).
    pub driver_groups: Vec<Vec<Value>>,
    pub responders: Vec<Responder>,
}

fn resources(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::Object(m) => {
            if let Some(Value::String(r)) = m.get("Resource") {
                out.push(r.clone());
            }
            m.values().for_each(|c| resources(c, out));
        }
        Value::Array(a) => a.iter().for_each(|c| resources(c, out)),
        _ => {}
    }
}

fn str_at<'a>(v: &'a Value, key: &str) -> Option<&'a str> {
    v.get(key).and_then(Value::as_str)
}

/// What `case` needs around its execution, `None` when it needs nothing, or why the harness
/// cannot provide it (the case is then skipped with that reason).
pub fn plan(case: &Case) -> Result<Option<Plan>, String> {
    if case.needs.is_empty() && case.driver_calls.is_empty() {
        return Ok(None);
    }
    if let Some(n) = case
        .needs
        .iter()
        .find(|n| !ACTOR_NEEDS.contains(&n.as_str()))
    {
        return Err(format!("needs {n}"));
    }
    let mut p = Plan {
        resources_deleted: DELETED_BEFORE_RUN.contains(&case.id.as_str()),
        ..Plan::default()
    };
    for m in &case.related_state_machines {
        let name = str_at(m, "name").ok_or("a related state machine without a name")?;
        p.related.push(Machine {
            name: name.to_string(),
            definition: m
                .get("definition")
                .map(Value::to_string)
                .unwrap_or_default(),
            kind: str_at(m, "type").unwrap_or("STANDARD").to_string(),
        });
    }
    let mut all = Vec::new();
    resources(&case.definition, &mut all);
    for m in &case.related_state_machines {
        resources(m.get("definition").unwrap_or(&Value::Null), &mut all);
    }
    let mut waits_for_token = false;
    for r in &all {
        match arn::parse(r) {
            Resource::Activity { name } if !p.activities.contains(&name) => {
                p.activities.push(name);
            }
            Resource::LambdaFunction { .. } | Resource::LambdaInvoke { .. } => {
                return Err("needs lambda".into())
            }
            Resource::Service {
                service,
                action,
                pattern,
                sdk,
            } if !sdk && (service == "sqs" || service == "sns") => {
                if !fakes_resource(r) {
                    return Err(format!("{service}:{action} is not faked"));
                }
                waits_for_token |= pattern == Pattern::WaitForTaskToken;
            }
            _ => {}
        }
    }
    for call in &case.setup_calls {
        let (service, op) = (
            str_at(call, "service").unwrap_or("?"),
            str_at(call, "op").unwrap_or("?"),
        );
        let params = call.get("params").unwrap_or(&Value::Null);
        match (service, op) {
            // The fake queue takes any QueueUrl.
            ("sqs", "create_queue") => {}
            ("sns", "create_topic") => {
                let name = str_at(params, "Name").unwrap_or("");
                let fifo = params
                    .get("Attributes")
                    .and_then(|a| str_at(a, "FifoTopic"))
                    == Some("true")
                    || name.ends_with(".fifo");
                p.topics
                    .push((format!("arn:aws:sns:{REGION}:{ACCOUNT}:{name}"), fifo));
            }
            _ => return Err(format!("set-up call {service}:{op}")),
        }
    }
    let mut group = Vec::new();
    for call in &case.driver_calls {
        let op = str_at(call, "op").unwrap_or("?");
        match op {
            "send_task_heartbeat" => group.push(call.clone()),
            "send_task_success" | "send_task_failure" => {
                group.push(call.clone());
                p.driver_groups.push(std::mem::take(&mut group));
            }
            _ => return Err(format!("driver call {op}")),
        }
    }
    if !group.is_empty() {
        p.driver_groups.push(group);
    }
    for actor in &case.external_actors {
        let kind = str_at(actor, "kind").unwrap_or("?");
        let kwargs = actor.get("kwargs").unwrap_or(&Value::Null);
        let first_arg = actor
            .get("args")
            .and_then(|a| a.get(0))
            .and_then(Value::as_str)
            .map(str::to_string);
        match kind {
            "sfn_activity_consumer" => p.workers.push(Worker {
                template: kwargs
                    .get("template")
                    .cloned()
                    .ok_or("a worker without ASL")?,
                activity_arn: str_at(kwargs, "activity_arn")
                    .ok_or("a worker without activity_arn")?
                    .to_string(),
            }),
            "sqs_send_task_success_state_machine" => {
                p.responders.push(Responder::SucceedWithMessage {
                    queue_url: first_arg.ok_or("a callback actor without its queue")?,
                })
            }
            "sqs_send_task_failure_state_machine" => p.responders.push(Responder::Fail {
                queue_url: first_arg.ok_or("a callback actor without its queue")?,
                error: HELPER_FAILURE.0.into(),
                cause: HELPER_FAILURE.1.into(),
            }),
            k => return Err(format!("external actor {k}")),
        }
    }
    // A token nobody answers can only time out; a success means the test answered it in a
    // way the case does not record.
    if waits_for_token
        && p.driver_groups.is_empty()
        && p.responders.is_empty()
        && case.expected_status() == Some("SUCCEEDED")
    {
        return Err("the test answered the task token with calls the case does not record".into());
    }
    Ok(Some(p))
}

/// Plays the actors: answers each new message with the next driver-call group, or with the
/// responder of its queue.
struct Answerer {
    groups: VecDeque<Vec<Value>>,
    responders: Vec<Responder>,
}

impl Answerer {
    fn answer(&mut self, s: &mut dyn ApiSession, m: &SentMessage) -> Result<(), String> {
        let body: Value = serde_json::from_str(&m.body).unwrap_or(Value::Null);
        let Some(token) = str_at(&body, "TaskToken").map(str::to_string) else {
            return Ok(());
        };
        let call = |s: &mut dyn ApiSession, action: &str, params: Value| {
            s.call(action, &params)
                .map(|_| ())
                .map_err(|e| format!("{action} (playing the test): {}: {}", e.code, e.message))
        };
        if let Some(group) = self.groups.pop_front() {
            // What the test read: the received message (`resp['Messages'][0]['Body']`) and
            // its decoded body (`resp['TaskToken']`).
            let mut read = body.clone();
            if let Value::Object(o) = &mut read {
                o.insert("Messages".into(), json!([{ "Body": m.body }]));
            }
            for d in group {
                let op = str_at(&d, "op").unwrap_or("");
                let params = d.get("params").cloned().unwrap_or_else(|| json!({}));
                let params = substitute(&params, std::slice::from_ref(&read), false)?;
                call(s, &action_name(op), params)?;
            }
            return Ok(());
        }
        for r in &self.responders {
            match r {
                Responder::SucceedWithMessage { queue_url } if *queue_url == m.queue_url => {
                    let output = body.get("Message").cloned().unwrap_or(Value::Null);
                    let params = json!({"taskToken": token, "output": output.to_string()});
                    return call(s, "SendTaskSuccess", params);
                }
                Responder::Fail {
                    queue_url,
                    error,
                    cause,
                } if *queue_url == m.queue_url => {
                    let params = json!({"taskToken": token, "error": error, "cause": cause});
                    return call(s, "SendTaskFailure", params);
                }
                _ => {}
            }
        }
        Ok(())
    }
}

fn create_machine(
    s: &mut dyn ApiSession,
    name: &str,
    definition: String,
    kind: &str,
    role: &str,
) -> Result<String, String> {
    let r = s
        .call(
            "CreateStateMachine",
            &json!({"name": name, "definition": definition, "roleArn": role, "type": kind}),
        )
        .map_err(|e| {
            format!(
                "set-up CreateStateMachine {name}: {}: {}",
                e.code, e.message
            )
        })?;
    Ok(str_at(&r, "stateMachineArn")
        .unwrap_or_default()
        .to_string())
}

/// Runs `req` in the world of `plan` (see the module documentation).
pub fn run(req: &ExecRequest, plan: &Plan, deadline: Duration) -> Result<RunOutput, String> {
    let fakes = Arc::new(FakeServices::new());
    for (arn, fifo) in &plan.topics {
        fakes.create_topic(arn, *fifo);
        if plan.resources_deleted {
            fakes.delete_topic(arn);
        }
    }
    let integration: Arc<dyn ServiceIntegration> = fakes.clone();
    let mut session = ServiceSession::with_integrations(vec![integration])?;
    let s: &mut dyn ApiSession = &mut session;
    for m in &plan.related {
        create_machine(s, &m.name, m.definition.clone(), &m.kind, &req.role_arn)?;
    }
    for name in &plan.activities {
        let created = s
            .call("CreateActivity", &json!({ "name": name }))
            .map_err(|e| format!("set-up CreateActivity: {}: {}", e.code, e.message))?;
        if plan.resources_deleted {
            let arn = str_at(&created, "activityArn").unwrap_or_default();
            s.call("DeleteActivity", &json!({ "activityArn": arn }))
                .map_err(|e| format!("set-up DeleteActivity: {}: {}", e.code, e.message))?;
        }
    }
    for (i, w) in plan.workers.iter().enumerate() {
        let name = format!("conformance_activity_worker_{i}");
        let arn = create_machine(s, &name, w.template.to_string(), "STANDARD", &req.role_arn)?;
        let input = json!({ "ActivityArn": w.activity_arn }).to_string();
        s.call(
            "StartExecution",
            &json!({"stateMachineArn": arn, "input": input}),
        )
        .map_err(|e| format!("starting the activity worker: {}: {}", e.code, e.message))?;
    }
    let arn = match start_execution(s, req)? {
        Started::Ended(out) => return Ok(out),
        Started::Running(arn) => arn,
    };
    let mut answerer = Answerer {
        groups: plan.driver_groups.iter().cloned().collect(),
        responders: plan.responders.clone(),
    };
    let mut hook = |s: &mut dyn ApiSession| -> Result<(), String> {
        for m in fakes.take_new_messages() {
            answerer.answer(s, &m)?;
        }
        Ok(())
    };
    finish_execution(s, &arn, deadline, &mut hook)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn case(v: Value) -> Case {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn pure_cases_need_no_plan() {
        let c = case(json!({"id": "x", "kind": "execution", "needs": []}));
        assert_eq!(plan(&c), Ok(None));
    }

    #[test]
    fn plans_activities_workers_and_driver_groups() {
        let c = case(json!({
            "id": "x", "kind": "execution", "needs": ["activity", "activity_worker", "sqs"],
            "definition": {"StartAt": "A", "States": {
                "A": {"Type": "Task", "Resource": "arn:aws:states:us-east-1:111111111111:activity:act", "Next": "B"},
                "B": {"Type": "Task", "Resource": "arn:aws:states:::sqs:sendMessage.waitForTaskToken", "End": true}}},
            "external_actors": [{"kind": "sfn_activity_consumer", "args": [],
                "kwargs": {"template": {"StartAt": "W"}, "activity_arn": "arn:act"}}],
            "driver_calls": [{"op": "send_task_heartbeat"}, {"op": "send_task_success"},
                             {"op": "send_task_failure"}],
            "setup_calls": [{"service": "sns", "op": "create_topic", "params": {"Name": "t.fifo"}}],
        }));
        let p = plan(&c).unwrap().unwrap();
        assert_eq!(p.activities, vec!["act"]);
        assert_eq!(p.workers[0].activity_arn, "arn:act");
        assert_eq!(p.driver_groups.len(), 2);
        assert_eq!(p.driver_groups[0].len(), 2);
        assert_eq!(
            p.topics,
            vec![(
                "arn:aws:sns:us-east-1:111111111111:t.fifo".to_string(),
                true
            )]
        );
    }

    #[test]
    fn refuses_what_it_cannot_play() {
        let c = case(json!({"id": "x", "kind": "execution", "needs": ["lambda"]}));
        assert_eq!(plan(&c), Err("needs lambda".into()));
        let c = case(json!({"id": "x", "kind": "execution", "needs": ["sqs"],
            "driver_calls": [{"op": "stop_execution"}]}));
        assert_eq!(plan(&c), Err("driver call stop_execution".into()));
        let c = case(json!({"id": "x", "kind": "execution", "needs": ["sns"],
            "expected": {"status": "SUCCEEDED"},
            "definition": {"StartAt": "A", "States": {"A": {"Type": "Task",
                "Resource": "arn:aws:states:::sns:publish.waitForTaskToken", "End": true}}}}));
        assert!(plan(&c).unwrap_err().contains("does not record"));
    }
}
