//! The console in a real headless Chromium: creates machines through the API, checks the
//! graph, starts an execution from the form and watches it run, stops one, filters the list,
//! and times a 200-state machine. The browser side is `tests/browser/console.test.mjs`
//! (playwright-core driving Debian's `chromium`); screenshots go to
//! `target/console-screenshots/`.
//!
//! Skipped, with a message, when node, chromium or `npm ci` in tests/browser are missing
//! (`scripts/test.sh` installs them).

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn chromium() -> Option<PathBuf> {
    let p = PathBuf::from(
        std::env::var("CHROMIUM_PATH").unwrap_or_else(|_| "/usr/bin/chromium".into()),
    );
    p.exists().then_some(p)
}

fn has_node() -> bool {
    Command::new("node")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

#[test]
fn console_in_headless_chromium() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/browser");
    let Some(chromium) = chromium() else {
        eprintln!("SKIPPED: no chromium at /usr/bin/chromium (apt-get install chromium, or set CHROMIUM_PATH)");
        return;
    };
    if !has_node() {
        eprintln!("SKIPPED: node is not installed");
        return;
    }
    if !dir.join("node_modules/playwright-core").exists() {
        eprintln!(
            "SKIPPED: playwright-core missing: run `npm ci --prefix {}`",
            dir.display()
        );
        return;
    }
    let shots = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/console-screenshots");
    let srv = common::start_server();
    let started = Instant::now();
    let mut child = Command::new("node")
        .arg(dir.join("console.test.mjs"))
        .arg(&srv.url)
        .arg(&shots)
        .env("CHROMIUM_PATH", &chromium)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run node");
    // A hung browser must not hang the test suite.
    let deadline = started + Duration::from_secs(120);
    let status = loop {
        if let Some(s) = child.try_wait().expect("wait") {
            break Some(s);
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            break None;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    let out = child.wait_with_output().expect("output");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    println!("{stdout}");
    eprintln!("{stderr}");
    eprintln!(
        "browser test took {:?}; screenshots in {}",
        started.elapsed(),
        shots.display()
    );
    let status = status.expect("the browser test timed out after 120 s");
    assert!(status.success(), "browser test failed:\n{stdout}\n{stderr}");
}
