//! Activity workers against a real `stepwise serve` (run on demand, never in CI's tests):
//!
//!   cargo build --release -p stepwise-cli
//!   cargo run --profile bench-fast -p stepwise-bench --bin activity -- [--runs 3] [--secs 10]
//!
//! Starts the server binary (`--stepwise PATH`, SQLite store in a temp dir; a fresh server per
//! worker count W so the figures of one W don't carry the other's database), and drives a
//! Standard machine of K sequential activity Task states over keep-alive HTTP/1.1, one
//! connection per worker, each worker a long-polling GetActivityTask / SendTaskSuccess loop.
//!
//! Two phases per run, each on its own activity so no poll of one phase sees the other's tasks:
//! - idle: one execution at a time with W workers waiting, so the time between a worker's
//!   SendTaskSuccess returning and some worker receiving the next task of that execution is the
//!   engine's own work (apply the answer, record it durably, transition, schedule the next task,
//!   hand it to a waiting long poll). "Pickup" is StartExecution returned → first task received.
//! - loaded: 4·W executions (`--per-worker`) kept in flight (closed loop: a finished one is replaced by a new
//!   one from a separate connection) for `--secs`; completed tasks/s and executions/s, and the
//!   same round-trip under load (then it includes the wait in the task queue).
//!
//! Every latency is read off this process's own monotonic clock, so no clock is shared with the
//! server. Prints medians over `--runs` of each run's figure: measurements, never assertions.

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1::SendRequest;
use hyper::Request;
use hyper_util::rt::TokioIo;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::mpsc;

const ROLE: &str = "arn:aws:iam::123456789012:role/r";

struct Args {
    stepwise: PathBuf,
    runs: usize,
    secs: f64,
    steps: u64,
    idle_execs: usize,
    per_worker: usize,
    workers: Vec<usize>,
}

fn parse_args() -> Result<Args, String> {
    let mut a = Args {
        stepwise: PathBuf::from("target/release/stepwise"),
        runs: 3,
        secs: 10.0,
        steps: 10,
        idle_execs: 50,
        per_worker: 4,
        workers: vec![1, 8, 64],
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut val = || it.next().ok_or(format!("{flag} needs a value"));
        let num = |s: String| s.parse::<usize>().map_err(|e| format!("{s}: {e}"));
        match flag.as_str() {
            "--stepwise" => a.stepwise = PathBuf::from(val()?),
            "--runs" => a.runs = num(val()?)?.max(1),
            "--secs" => a.secs = val()?.parse().map_err(|e| format!("--secs: {e}"))?,
            "--steps" => a.steps = num(val()?)?.max(1) as u64,
            "--idle-execs" => a.idle_execs = num(val()?)?.max(1),
            "--per-worker" => a.per_worker = num(val()?)?.max(1),
            "--workers" => {
                a.workers = val()?
                    .split(',')
                    .map(|s| num(s.trim().to_string()))
                    .collect::<Result<_, _>>()?
            }
            "-h" | "--help" => {
                println!(
                    "activity [--stepwise PATH] [--runs N] [--secs S] [--steps K] \
                     [--idle-execs N] [--per-worker N] [--workers 1,8,64]"
                );
                std::process::exit(0);
            }
            other => return Err(format!("unknown argument {other}")),
        }
    }
    Ok(a)
}

/// The server under test; killed and its data dir removed when dropped.
struct Server {
    child: Child,
    addr: SocketAddr,
    dir: PathBuf,
}

impl Server {
    fn start(bin: &PathBuf, tag: &str) -> Result<Server, String> {
        // Ask the OS for a free port, then hand it over (the window for a clash is tiny).
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map_err(|e| format!("free port: {e}"))?
            .port();
        let dir =
            std::env::temp_dir().join(format!("stepwise-actbench-{}-{tag}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        let child = Command::new(bin)
            .args(["serve", "--port", &port.to_string(), "--log-level", "warn"])
            .arg("--data-dir")
            .arg(&dir)
            .stdout(Stdio::null())
            .stdin(Stdio::null())
            .spawn()
            .map_err(|e| format!("{}: {e}", bin.display()))?;
        let server = Server {
            child,
            addr: SocketAddr::from(([127, 0, 0, 1], port)),
            dir,
        };
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if server.healthy() {
                return Ok(server);
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        Err("the server did not answer GET /healthz within 20 s".into())
    }

    fn healthy(&self) -> bool {
        let Ok(mut s) = TcpStream::connect_timeout(&self.addr, Duration::from_millis(500)) else {
            return false;
        };
        let _ = s.set_read_timeout(Some(Duration::from_secs(2)));
        let req = "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
        let mut out = String::new();
        s.write_all(req.as_bytes()).is_ok()
            && s.read_to_string(&mut out).is_ok()
            && out.starts_with("HTTP/1.1 200")
    }

    /// User + system CPU time of the server so far, from /proc (Linux; 0 elsewhere).
    fn cpu(&self) -> Duration {
        cpu_of(&format!("/proc/{}/stat", self.child.id()))
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// utime + stime of a /proc stat file, assuming the usual 100 clock ticks per second.
fn cpu_of(path: &str) -> Duration {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    // Fields after the parenthesised command name; utime and stime are the 14th and 15th.
    let rest = text.rsplit_once(')').map_or("", |(_, r)| r);
    let f: Vec<u64> = rest
        .split_whitespace()
        .skip(11)
        .take(2)
        .filter_map(|x| x.parse().ok())
        .collect();
    Duration::from_millis(f.iter().sum::<u64>() * 10)
}

/// One keep-alive HTTP/1.1 connection speaking AWS JSON 1.0.
struct Conn {
    tx: SendRequest<Full<Bytes>>,
}

impl Conn {
    async fn open(addr: SocketAddr) -> Result<Conn, String> {
        let tcp = tokio::net::TcpStream::connect(addr)
            .await
            .map_err(|e| format!("connect: {e}"))?;
        let _ = tcp.set_nodelay(true);
        let (tx, conn) = hyper::client::conn::http1::handshake(TokioIo::new(tcp))
            .await
            .map_err(|e| format!("handshake: {e}"))?;
        tokio::spawn(async move {
            let _ = conn.await;
        });
        Ok(Conn { tx })
    }

    async fn call(&mut self, action: &str, body: Value) -> Result<Value, String> {
        let req = Request::post("/")
            .header("host", "127.0.0.1")
            .header("content-type", "application/x-amz-json-1.0")
            .header("x-amz-target", format!("AWSStepFunctions.{action}"))
            .body(Full::new(Bytes::from(body.to_string())))
            .map_err(|e| e.to_string())?;
        self.tx
            .ready()
            .await
            .map_err(|e| format!("{action}: {e}"))?;
        let resp = self
            .tx
            .send_request(req)
            .await
            .map_err(|e| format!("{action}: {e}"))?;
        let status = resp.status();
        let bytes = resp
            .into_body()
            .collect()
            .await
            .map_err(|e| format!("{action}: {e}"))?
            .to_bytes();
        if !status.is_success() {
            return Err(format!(
                "{action}: HTTP {status}: {}",
                String::from_utf8_lossy(&bytes)
            ));
        }
        serde_json::from_slice(&bytes).map_err(|e| format!("{action}: {e}"))
    }
}

/// Where an execution's next task stands: the answer that leads to it has returned, or the
/// task already reached a worker before that answer's HTTP response did.
enum Mark {
    Sent(u64, Instant),
    Arrived(u64),
}

#[derive(Default)]
struct Samples {
    /// SendTaskSuccess returned → next task of the execution received, µs.
    round_trip: Vec<u64>,
    /// StartExecution returned → first task received, µs.
    pickup: Vec<u64>,
    /// SendTaskSuccess call latency, µs.
    send: Vec<u64>,
    /// Tasks that reached a worker before the answer before them had returned (counted as 0).
    early: u64,
}

/// Shared by one phase's workers, starter and driver.
struct Phase {
    activity: String,
    machine: String,
    steps: u64,
    marks: Mutex<HashMap<u64, Mark>>,
    samples: Mutex<Samples>,
    stop: AtomicBool,
    /// Tasks and executions completed (their last SendTaskSuccess returned) before `stop`.
    tasks: AtomicU64,
    execs: AtomicU64,
    empty_polls: AtomicU64,
    next_id: AtomicU64,
    finished: mpsc::UnboundedSender<u64>,
}

impl Phase {
    fn sample(&self, step: u64, us: u64, early: bool) {
        if self.stop.load(Ordering::Relaxed) {
            return;
        }
        let mut s = self.samples.lock().unwrap_or_else(|e| e.into_inner());
        if step == 0 {
            s.pickup.push(us);
        } else {
            s.round_trip.push(us);
        }
        s.early += u64::from(early);
    }

    /// The call that leads to task `step` of execution `id` returned at `at`.
    fn sent(&self, id: u64, step: u64, at: Instant) {
        let mut m = self.marks.lock().unwrap_or_else(|e| e.into_inner());
        match m.remove(&id) {
            Some(Mark::Arrived(s)) if s == step => {
                drop(m);
                self.sample(step, 0, true);
            }
            _ => {
                m.insert(id, Mark::Sent(step, at));
            }
        }
    }

    /// Task `step` of execution `id` reached a worker at `at`.
    fn arrived(&self, id: u64, step: u64, at: Instant) {
        let mut m = self.marks.lock().unwrap_or_else(|e| e.into_inner());
        match m.remove(&id) {
            Some(Mark::Sent(s, t)) if s == step => {
                drop(m);
                self.sample(
                    step,
                    at.saturating_duration_since(t).as_micros() as u64,
                    false,
                );
            }
            _ => {
                m.insert(id, Mark::Arrived(step));
            }
        }
    }

    async fn start(&self, conn: &mut Conn, tracked: bool) -> Result<u64, String> {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        conn.call(
            "StartExecution",
            json!({"stateMachineArn": self.machine, "name": format!("e{id}"),
                   "input": json!({"id": id, "step": 0}).to_string()}),
        )
        .await?;
        if tracked {
            self.sent(id, 0, Instant::now());
        }
        Ok(id)
    }
}

/// A long-polling worker: GetActivityTask, then SendTaskSuccess with the next step, until the
/// phase stops. Returns how many tasks it answered before the stop.
async fn worker(mut conn: Conn, p: Arc<Phase>, n: usize) -> Result<u64, String> {
    let mut done = 0;
    let name = format!("w{n}");
    loop {
        if p.stop.load(Ordering::Relaxed) {
            return Ok(done);
        }
        let r = conn
            .call(
                "GetActivityTask",
                json!({"activityArn": p.activity, "workerName": name}),
            )
            .await?;
        let got = Instant::now();
        let Some(token) = r.get("taskToken").and_then(Value::as_str) else {
            p.empty_polls.fetch_add(1, Ordering::Relaxed);
            continue;
        };
        let input: Value = r
            .get("input")
            .and_then(Value::as_str)
            .and_then(|s| serde_json::from_str(s).ok())
            .unwrap_or(Value::Null);
        let output = if input.get("stop").is_some() {
            None
        } else {
            let id = input.get("id").and_then(Value::as_u64).unwrap_or(0);
            let step = input.get("step").and_then(Value::as_u64).unwrap_or(0);
            p.arrived(id, step, got);
            Some((id, step + 1))
        };
        let body = output.map_or(
            json!({"stop": true}),
            |(id, s)| json!({"id": id, "step": s}),
        );
        let t0 = Instant::now();
        conn.call(
            "SendTaskSuccess",
            json!({"taskToken": token, "output": body.to_string()}),
        )
        .await?;
        let t1 = Instant::now();
        let Some((id, next)) = output else {
            return Ok(done);
        };
        if p.stop.load(Ordering::Relaxed) {
            continue;
        }
        done += 1;
        p.tasks.fetch_add(1, Ordering::Relaxed);
        p.samples
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .send
            .push((t1 - t0).as_micros() as u64);
        if next < p.steps {
            p.sent(id, next, t1);
        } else {
            p.execs.fetch_add(1, Ordering::Relaxed);
            let _ = p.finished.send(id);
        }
    }
}

/// Creates this phase's activity and its K-step machine.
async fn setup(
    conn: &mut Conn,
    tag: &str,
    steps: u64,
) -> Result<(Arc<Phase>, mpsc::UnboundedReceiver<u64>), String> {
    let act = conn
        .call("CreateActivity", json!({"name": format!("act-{tag}")}))
        .await?;
    let activity = act["activityArn"]
        .as_str()
        .ok_or("CreateActivity: no activityArn")?
        .to_string();
    let mut states = serde_json::Map::new();
    for i in 0..steps {
        let mut s = json!({"Type": "Task", "Resource": activity});
        if i + 1 < steps {
            s["Next"] = json!(format!("S{}", i + 1));
        } else {
            s["End"] = json!(true);
        }
        states.insert(format!("S{i}"), s);
    }
    let def = json!({"StartAt": "S0", "States": states});
    let sm = conn
        .call(
            "CreateStateMachine",
            json!({"name": format!("sm-{tag}"), "definition": def.to_string(),
                   "roleArn": ROLE, "type": "STANDARD"}),
        )
        .await?;
    let machine = sm["stateMachineArn"]
        .as_str()
        .ok_or("CreateStateMachine: no stateMachineArn")?
        .to_string();
    let (finished, rx) = mpsc::unbounded_channel();
    let phase = Phase {
        activity,
        machine,
        steps,
        marks: Mutex::new(HashMap::new()),
        samples: Mutex::new(Samples::default()),
        stop: AtomicBool::new(false),
        tasks: AtomicU64::new(0),
        execs: AtomicU64::new(0),
        empty_polls: AtomicU64::new(0),
        next_id: AtomicU64::new(0),
        finished,
    };
    Ok((Arc::new(phase), rx))
}

type Workers = Vec<tokio::task::JoinHandle<Result<u64, String>>>;

async fn spawn_workers(addr: SocketAddr, p: &Arc<Phase>, w: usize) -> Result<Workers, String> {
    let mut handles = Vec::with_capacity(w);
    for n in 0..w {
        let conn = Conn::open(addr).await?;
        handles.push(tokio::spawn(worker(conn, p.clone(), n)));
    }
    Ok(handles)
}

/// Stops the workers: raise the flag, then start one "stop" execution per worker so every
/// long poll under way ends with a task (an abandoned poll would hold a server thread 60 s).
async fn stop_workers(
    conn: &mut Conn,
    p: &Phase,
    handles: Workers,
    tag: &str,
) -> Result<Vec<u64>, String> {
    p.stop.store(true, Ordering::SeqCst);
    for i in 0..handles.len() {
        conn.call(
            "StartExecution",
            json!({"stateMachineArn": p.machine, "name": format!("stop-{tag}-{i}"),
                   "input": "{\"stop\":true}"}),
        )
        .await?;
    }
    let mut per_worker = Vec::new();
    for h in handles {
        match tokio::time::timeout(Duration::from_secs(90), h).await {
            Ok(Ok(r)) => per_worker.push(r?),
            Ok(Err(e)) => return Err(format!("worker: {e}")),
            Err(_) => return Err("a worker did not stop within 90 s".into()),
        }
    }
    Ok(per_worker)
}

struct IdleResult {
    round_trip: Vec<u64>,
    pickup: Vec<u64>,
    early: u64,
}

/// One execution at a time, W workers waiting.
async fn idle_phase(
    addr: SocketAddr,
    w: usize,
    steps: u64,
    execs: usize,
    tag: &str,
) -> Result<IdleResult, String> {
    let mut conn = Conn::open(addr).await?;
    let (p, mut finished) = setup(&mut conn, tag, steps).await?;
    let handles = spawn_workers(addr, &p, w).await?;
    // Let every worker's first long poll reach the server before the first execution.
    tokio::time::sleep(Duration::from_millis(200)).await;
    for _ in 0..execs {
        let id = p.start(&mut conn, true).await?;
        loop {
            match tokio::time::timeout(Duration::from_secs(30), finished.recv()).await {
                Ok(Some(done)) if done == id => break,
                Ok(Some(_)) => {}
                Ok(None) => return Err("workers gone".into()),
                Err(_) => return Err(format!("execution e{id} did not finish within 30 s")),
            }
        }
    }
    stop_workers(&mut conn, &p, handles, tag).await?;
    let s = std::mem::take(&mut *p.samples.lock().unwrap_or_else(|e| e.into_inner()));
    Ok(IdleResult {
        round_trip: s.round_trip,
        pickup: s.pickup,
        early: s.early,
    })
}

struct LoadResult {
    tasks_per_s: f64,
    execs_per_s: f64,
    round_trip: Vec<u64>,
    pickup: Vec<u64>,
    send: Vec<u64>,
    early: u64,
    empty_polls: u64,
    per_worker: Vec<u64>,
    /// Ages of the waits for a next task still open when the run stopped, µs.
    pending: Vec<u64>,
    in_flight: u64,
    server_cpu: f64,
    client_cpu: f64,
}

/// `per_worker`·W executions kept in flight for `secs`.
async fn load_phase(
    server: &Server,
    w: usize,
    per_worker: usize,
    steps: u64,
    secs: f64,
    tag: &str,
) -> Result<LoadResult, String> {
    let addr = server.addr;
    let mut conn = Conn::open(addr).await?;
    let (p, finished) = setup(&mut conn, tag, steps).await?;
    let in_flight = per_worker * w;
    for _ in 0..in_flight {
        // Not tracked: their first task waits for the workers that start below.
        p.start(&mut conn, false).await?;
    }
    // The closed loop: each finished execution is replaced by one of W starters, each on its
    // own connection (a single one caps executions/s at 1 / StartExecution latency).
    let finished = Arc::new(tokio::sync::Mutex::new(finished));
    let mut starters = Vec::with_capacity(w);
    for _ in 0..w {
        let (p, finished) = (p.clone(), finished.clone());
        let mut conn = Conn::open(addr).await?;
        starters.push(tokio::spawn(async move {
            loop {
                let next = finished.lock().await.recv().await;
                if next.is_none() || p.stop.load(Ordering::Relaxed) {
                    return Ok::<(), String>(());
                }
                p.start(&mut conn, true).await?;
            }
        }));
    }
    let (cpu0, self0) = (server.cpu(), cpu_of("/proc/self/stat"));
    let t0 = Instant::now();
    let handles = spawn_workers(addr, &p, w).await?;
    tokio::time::sleep(Duration::from_secs_f64(secs)).await;
    p.stop.store(true, Ordering::SeqCst);
    let elapsed = t0.elapsed().as_secs_f64();
    let (cpu1, self1) = (server.cpu(), cpu_of("/proc/self/stat"));
    // The waits still open at the stop: the tail that the round-trip samples cannot show.
    let pending: Vec<u64> = {
        let now = Instant::now();
        let m = p.marks.lock().unwrap_or_else(|e| e.into_inner());
        m.values()
            .filter_map(|mark| match mark {
                Mark::Sent(_, t) => Some(now.saturating_duration_since(*t).as_micros() as u64),
                Mark::Arrived(_) => None,
            })
            .collect()
    };
    // Started minus finished: shows whether the closed loop really kept its executions going.
    let in_flight_now = p.next_id.load(Ordering::Relaxed) - p.execs.load(Ordering::Relaxed);
    let per_worker = stop_workers(&mut conn, &p, handles, tag).await?;
    for s in starters {
        s.abort();
    }
    let s = std::mem::take(&mut *p.samples.lock().unwrap_or_else(|e| e.into_inner()));
    Ok(LoadResult {
        tasks_per_s: p.tasks.load(Ordering::Relaxed) as f64 / elapsed,
        execs_per_s: p.execs.load(Ordering::Relaxed) as f64 / elapsed,
        round_trip: s.round_trip,
        pickup: s.pickup,
        send: s.send,
        early: s.early,
        empty_polls: p.empty_polls.load(Ordering::Relaxed),
        per_worker,
        server_cpu: (cpu1 - cpu0).as_secs_f64() / elapsed,
        client_cpu: (self1 - self0).as_secs_f64() / elapsed,
        pending,
        in_flight: in_flight_now,
    })
}

/// The q-quantile (nearest rank) in ms; NaN when there are no samples.
fn pct(v: &mut [u64], q: f64) -> f64 {
    if v.is_empty() {
        return f64::NAN;
    }
    v.sort_unstable();
    let i = ((q * v.len() as f64).ceil() as usize).clamp(1, v.len()) - 1;
    v[i] as f64 / 1000.0
}

/// The mean in ms: next to p50/p99 it shows how heavy the tail past p99 is.
fn mean(v: &[u64]) -> f64 {
    v.iter().sum::<u64>() as f64 / v.len().max(1) as f64 / 1000.0
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v.get(v.len() / 2).copied().unwrap_or(f64::NAN)
}

/// Per-run figures, each reduced to a median over the runs.
#[derive(Default)]
struct Figures(HashMap<&'static str, Vec<f64>>);

impl Figures {
    fn push(&mut self, k: &'static str, v: f64) {
        self.0.entry(k).or_default().push(v);
    }
    fn med(&self, k: &str) -> f64 {
        self.0.get(k).cloned().map_or(f64::NAN, median)
    }
}

async fn bench_workers(args: &Args, w: usize) -> Result<Figures, String> {
    let server = Server::start(&args.stepwise, &format!("w{w}"))?;
    let mut f = Figures::default();
    eprintln!("  W={w:<3} load average before: {}", loadavg());
    for run in 0..args.runs {
        let mut idle = idle_phase(
            server.addr,
            w,
            args.steps,
            args.idle_execs,
            &format!("idle-{run}"),
        )
        .await?;
        let mut load = load_phase(
            &server,
            w,
            args.per_worker,
            args.steps,
            args.secs,
            &format!("load-{run}"),
        )
        .await?;
        f.push("tasks", load.tasks_per_s);
        f.push("execs", load.execs_per_s);
        f.push("idle_rt50", pct(&mut idle.round_trip, 0.5));
        f.push("idle_rt99", pct(&mut idle.round_trip, 0.99));
        f.push("pick50", pct(&mut idle.pickup, 0.5));
        f.push("pick99", pct(&mut idle.pickup, 0.99));
        f.push("load_rt50", pct(&mut load.round_trip, 0.5));
        f.push("load_rt99", pct(&mut load.round_trip, 0.99));
        f.push("send50", pct(&mut load.send, 0.5));
        f.push("send99", pct(&mut load.send, 0.99));
        f.push("srv_cpu", load.server_cpu);
        f.push("cli_cpu", load.client_cpu);
        let (lo, hi) = (
            load.per_worker.iter().min().copied().unwrap_or(0),
            load.per_worker.iter().max().copied().unwrap_or(0),
        );
        eprintln!(
            "  W={w:<3} run {run}: {:>7.0} tasks/s {:>6.1} execs/s | idle rt p50 {:.2} p99 {:.2} \
             ms (n={}, early {}) pickup p50 {:.2} | loaded rt p50 {:.2} p99 {:.2} mean {:.2} max {:.0} ms \
             (n={}, early {}) pickup p50 {:.2} | in flight at stop {}, {} waiting, oldest {:.0} ms \
             | send p50 {:.2} p99 {:.2} | per-worker tasks {lo}..{hi}, empty polls {} | \
             cpu server {:.0}% client {:.0}%",
            load.tasks_per_s,
            load.execs_per_s,
            pct(&mut idle.round_trip, 0.5),
            pct(&mut idle.round_trip, 0.99),
            idle.round_trip.len(),
            idle.early,
            pct(&mut idle.pickup, 0.5),
            pct(&mut load.round_trip, 0.5),
            pct(&mut load.round_trip, 0.99),
            mean(&load.round_trip),
            pct(&mut load.round_trip, 1.0),
            load.round_trip.len(),
            load.early,
            pct(&mut load.pickup, 0.5),
            load.in_flight,
            load.pending.len(),
            pct(&mut load.pending, 1.0),
            pct(&mut load.send, 0.5),
            pct(&mut load.send, 0.99),
            load.empty_polls,
            load.server_cpu * 100.0,
            load.client_cpu * 100.0,
        );
    }
    eprintln!("  W={w:<3} load average after: {}", loadavg());
    Ok(f)
}

/// The machine's load average (Linux): the client and server share the cores with whatever
/// else runs, so a figure is only comparable with others taken under a similar load.
fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "?".into())
}

fn main() {
    let args = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("activity: {e}");
            std::process::exit(2);
        }
    };
    if !args.stepwise.exists() {
        eprintln!(
            "activity: no server binary at {} (cargo build --release -p stepwise-cli, or \
             --stepwise PATH)",
            args.stepwise.display()
        );
        std::process::exit(2);
    }
    // One thread for all workers: the server gets the other core of a 2-core machine.
    let rt = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("activity: {e}");
            std::process::exit(1);
        }
    };
    println!(
        "activity tasks: {} Task states per execution, {} run(s) per W, medians of per-run \
         figures; idle = one execution at a time, loaded = {}·W in flight for {} s",
        args.steps, args.runs, args.per_worker, args.secs
    );
    let mut rows = Vec::new();
    for &w in &args.workers {
        match rt.block_on(bench_workers(&args, w)) {
            Ok(f) => rows.push((w, f)),
            Err(e) => {
                eprintln!("activity: W={w}: {e}");
                std::process::exit(1);
            }
        }
    }
    println!(
        "{:>3} | {:>8} | {:>7} | {:>17} | {:>17} | {:>17} | {:>17} | {:>9}",
        "W",
        "tasks/s",
        "execs/s",
        "idle rt p50/p99",
        "pickup p50/p99",
        "loaded rt p50/p99",
        "send p50/p99",
        "cpu s/c"
    );
    for (w, f) in rows {
        let pair = |a: &str, b: &str| format!("{:.2} / {:.2} ms", f.med(a), f.med(b));
        println!(
            "{w:>3} | {:>8.0} | {:>7.1} | {:>17} | {:>17} | {:>17} | {:>17} | {:>4.0}/{:>3.0}%",
            f.med("tasks"),
            f.med("execs"),
            pair("idle_rt50", "idle_rt99"),
            pair("pick50", "pick99"),
            pair("load_rt50", "load_rt99"),
            pair("send50", "send99"),
            f.med("srv_cpu") * 100.0,
            f.med("cli_cpu") * 100.0,
        );
    }
}
