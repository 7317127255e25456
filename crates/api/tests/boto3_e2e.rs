//! End to end: the real `stepwise serve` binary on a free port, driven by boto3
//! (crates/api/tests/py/test_validate.py), then stopped with SIGTERM, which must end it cleanly.
//!
//! Skips with a message when boto3 is not importable (scripts/test.sh installs it in a venv
//! and sets STEPWISE_PYTHON) or when the binary has not been built (scripts/test.sh builds it;
//! by hand: `cargo build -p stepwise-cli`). STEPWISE_BIN overrides the binary's path.

mod common;

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// `target/<profile>/stepwise`, next to this test's `deps/` folder.
fn binary() -> Option<PathBuf> {
    if let Ok(p) = std::env::var("STEPWISE_BIN") {
        return Some(PathBuf::from(p));
    }
    let exe = std::env::current_exe().ok()?;
    let dir = exe.parent()?.parent()?;
    let bin = dir.join(format!("stepwise{}", std::env::consts::EXE_SUFFIX));
    bin.is_file().then_some(bin)
}

/// Kills the server if the test fails before stopping it.
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        if let Ok(None) = self.0.try_wait() {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

fn healthy(port: u16) -> bool {
    let Ok(mut s) = TcpStream::connect(("127.0.0.1", port)) else {
        return false;
    };
    let _ = s.set_read_timeout(Some(Duration::from_secs(2)));
    if s.write_all(b"GET /healthz HTTP/1.0\r\nHost: localhost\r\n\r\n")
        .is_err()
    {
        return false;
    }
    let mut buf = String::new();
    let _ = s.read_to_string(&mut buf);
    buf.starts_with("HTTP/1.1 200") || buf.starts_with("HTTP/1.0 200")
}

#[test]
fn boto3_against_the_real_server() {
    if !common::python_has("boto3") {
        eprintln!(
            "SKIP: boto3 is not importable by {} (run scripts/test.sh, or set STEPWISE_PYTHON \
             to a python with boto3)",
            common::python()
        );
        return;
    }
    let Some(bin) = binary() else {
        eprintln!("SKIP: the stepwise binary is not built (cargo build -p stepwise-cli)");
        return;
    };
    let port = free_port();
    let child = Command::new(&bin)
        .args(["serve", "--host", "127.0.0.1", "--log-level", "warn"])
        .env("STEPWISE_PORT", port.to_string())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {}: {e}", bin.display()));
    let mut server = Server(child);

    let start = Instant::now();
    while !healthy(port) {
        if let Ok(Some(status)) = server.0.try_wait() {
            panic!("server exited before answering: {status}");
        }
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "server not healthy after 20 s"
        );
        std::thread::sleep(Duration::from_millis(50));
    }

    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/py/test_validate.py");
    let out = Command::new(common::python())
        .arg(&script)
        .arg(port.to_string())
        .output()
        .expect("python runs");
    let text = String::from_utf8_lossy(&out.stdout);
    println!("{text}{}", String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "boto3 checks failed:\n{text}");

    stop_gracefully(&mut server);
}

#[cfg(unix)]
fn stop_gracefully(server: &mut Server) {
    let pid = server.0.id().to_string();
    let sent = Command::new("kill").args(["-TERM", &pid]).status();
    assert!(sent.is_ok_and(|s| s.success()), "kill -TERM failed");
    let start = Instant::now();
    loop {
        if let Ok(Some(status)) = server.0.try_wait() {
            assert!(status.success(), "exit after SIGTERM: {status}");
            return;
        }
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "still running 10 s after SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[cfg(not(unix))]
fn stop_gracefully(_server: &mut Server) {}
