#![allow(dead_code)] // each test binary uses part of it
//! Starts the real `stepwise serve` binary on a free port with its own data directory.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The `stepwise` binary the workspace built (`scripts/test.sh` builds it before the tests).
pub fn binary() -> Option<PathBuf> {
    if let Ok(p) = std::env::var("STEPWISE_BIN") {
        return Some(PathBuf::from(p));
    }
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    let target = std::env::var("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or(root.join("target"));
    let p = target.join("debug").join("stepwise");
    p.exists().then_some(p)
}

pub struct Server {
    pub child: Child,
    pub port: u16,
    pub data_dir: PathBuf,
}

impl Server {
    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Starts a server; `data_dir` is kept across restarts by passing the same path.
    pub fn start(data_dir: PathBuf) -> Option<Server> {
        let bin = binary()?;
        let port = TcpListener::bind("127.0.0.1:0")
            .ok()?
            .local_addr()
            .ok()?
            .port();
        let child = Command::new(bin)
            .args(["serve", "--port", &port.to_string(), "--log-level", "warn"])
            .arg("--data-dir")
            .arg(&data_dir)
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .ok()?;
        let server = Server {
            child,
            port,
            data_dir,
        };
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if server.healthy() {
                return Some(server);
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("stepwise serve did not become healthy on port {port}");
    }

    fn healthy(&self) -> bool {
        let Ok(mut s) = TcpStream::connect(("127.0.0.1", self.port)) else {
            return false;
        };
        let _ =
            s.write_all(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
        let mut buf = String::new();
        let _ = s.read_to_string(&mut buf);
        buf.starts_with("HTTP/1.1 200")
    }

    /// SIGKILL: no chance to clean up (crash test).
    pub fn kill(mut self) -> PathBuf {
        let _ = self.child.kill();
        let _ = self.child.wait();
        self.data_dir.clone()
    }

    /// SIGTERM, then wait for a clean exit.
    pub fn terminate(mut self) -> PathBuf {
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(self.child.id().to_string())
            .status();
        let _ = self.child.wait();
        self.data_dir.clone()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A fresh directory under the target dir for one test's data.
pub fn temp_dir(name: &str) -> PathBuf {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/e2e");
    let dir = root.join(format!("{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("create test dir");
    dir
}

/// The 37 actions of the Step Functions API (the service model's operations).
pub const ACTIONS: [&str; 37] = [
    "CreateActivity",
    "CreateStateMachine",
    "CreateStateMachineAlias",
    "DeleteActivity",
    "DeleteStateMachine",
    "DeleteStateMachineAlias",
    "DeleteStateMachineVersion",
    "DescribeActivity",
    "DescribeExecution",
    "DescribeMapRun",
    "DescribeStateMachine",
    "DescribeStateMachineAlias",
    "DescribeStateMachineForExecution",
    "GetActivityTask",
    "GetExecutionHistory",
    "ListActivities",
    "ListExecutions",
    "ListMapRuns",
    "ListStateMachineAliases",
    "ListStateMachineVersions",
    "ListStateMachines",
    "ListTagsForResource",
    "PublishStateMachineVersion",
    "RedriveExecution",
    "SendTaskFailure",
    "SendTaskHeartbeat",
    "SendTaskSuccess",
    "StartExecution",
    "StartSyncExecution",
    "StopExecution",
    "TagResource",
    "TestState",
    "UntagResource",
    "UpdateMapRun",
    "UpdateStateMachine",
    "UpdateStateMachineAlias",
    "ValidateStateMachineDefinition",
];

/// What one action answered during a test: how many successes, which error codes.
#[derive(Debug, Default)]
pub struct Seen {
    pub ok: usize,
    pub errors: std::collections::BTreeSet<String>,
}

/// The calls a client really made, as seen on the wire (SDK) or from the CLI's exit status and
/// stderr: the coverage checks compare it with each area's static list, so a list cannot claim
/// an action the test does not call.
#[derive(Debug, Default, Clone)]
pub struct Coverage(std::sync::Arc<std::sync::Mutex<std::collections::BTreeMap<String, Seen>>>);

impl Coverage {
    fn with<R>(&self, f: impl FnOnce(&mut std::collections::BTreeMap<String, Seen>) -> R) -> R {
        let mut m = self.0.lock().unwrap_or_else(|e| e.into_inner());
        f(&mut m)
    }

    pub fn ok(&self, action: &str) {
        self.with(|m| m.entry(action.to_string()).or_default().ok += 1);
    }

    pub fn error(&self, action: &str, code: &str) {
        self.with(|m| {
            m.entry(action.to_string())
                .or_default()
                .errors
                .insert(code.to_string());
        });
    }

    /// Panics unless every action of `area` answered at least once with success and at least
    /// once with an error; prints what was seen, for the coverage table.
    pub fn assert_covers(&self, client: &str, area: &str, actions: &[&str]) {
        self.with(|m| {
            for a in m.keys() {
                assert!(
                    ACTIONS.contains(&a.as_str()),
                    "{client} recorded an unknown action {a}"
                );
            }
            let mut missing = Vec::new();
            for a in actions {
                match m.get(*a) {
                    Some(s) if s.ok > 0 && !s.errors.is_empty() => {
                        eprintln!("{client} {area}: {a}: {} ok, errors {:?}", s.ok, s.errors);
                    }
                    Some(s) => missing.push(format!("{a} (ok {}, errors {:?})", s.ok, s.errors)),
                    None => missing.push(format!("{a} (never called)")),
                }
            }
            assert!(
                missing.is_empty(),
                "{client} {area}: actions without both a success and an error: {missing:?}"
            );
        });
    }
}

/// Panics unless the areas' lists together name exactly the 37 actions.
pub fn assert_areas_cover_all(areas: &[(&str, &[&str])]) {
    let mut union = std::collections::BTreeSet::new();
    for (area, actions) in areas {
        for a in actions.iter() {
            assert!(
                ACTIONS.contains(a),
                "{area} lists {a}, which is not an action"
            );
            union.insert(*a);
        }
    }
    let all: std::collections::BTreeSet<&str> = ACTIONS.iter().copied().collect();
    assert_eq!(all.len(), 37, "the action list has duplicates");
    let missing: Vec<&&str> = all.difference(&union).collect();
    assert!(missing.is_empty(), "no area exercises {missing:?}");
}

/// The 37 actions by area, as the every-action tests exercise them (one test per area).
pub const MACHINES: &[&str] = &[
    "CreateStateMachine",
    "DescribeStateMachine",
    "UpdateStateMachine",
    "DeleteStateMachine",
    "ListStateMachines",
    "PublishStateMachineVersion",
    "ListStateMachineVersions",
    "DeleteStateMachineVersion",
    "CreateStateMachineAlias",
    "DescribeStateMachineAlias",
    "UpdateStateMachineAlias",
    "DeleteStateMachineAlias",
    "ListStateMachineAliases",
];
pub const EXECUTIONS: &[&str] = &[
    "StartExecution",
    "DescribeExecution",
    "StopExecution",
    "GetExecutionHistory",
    "ListExecutions",
    "DescribeStateMachineForExecution",
    "StartSyncExecution",
    "RedriveExecution",
];
pub const ACTIVITIES: &[&str] = &[
    "CreateActivity",
    "DescribeActivity",
    "ListActivities",
    "DeleteActivity",
    "GetActivityTask",
    "SendTaskSuccess",
    "SendTaskFailure",
    "SendTaskHeartbeat",
];
pub const MAP_RUNS: &[&str] = &["ListMapRuns", "DescribeMapRun", "UpdateMapRun"];
pub const TAGS: &[&str] = &["TagResource", "UntagResource", "ListTagsForResource"];
pub const TEST_STATE: &[&str] = &["TestState"];
pub const VALIDATE: &[&str] = &["ValidateStateMachineDefinition"];
