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
