//! The front end, compiled into the binary: no files to ship or find at run time.

use axum::extract::Path;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

/// `(path under /console/, content type, body)`.
const ASSETS: &[(&str, &str, &str)] = &[
    ("style.css", CSS, include_str!("../web/style.css")),
    ("app.js", JS, include_str!("../web/app.js")),
    ("api.js", JS, include_str!("../web/api.js")),
    ("util.js", JS, include_str!("../web/util.js")),
    ("derive.js", JS, include_str!("../web/derive.js")),
    ("graph.js", JS, include_str!("../web/graph.js")),
    (
        "views/machines.js",
        JS,
        include_str!("../web/views/machines.js"),
    ),
    (
        "views/machine.js",
        JS,
        include_str!("../web/views/machine.js"),
    ),
    (
        "views/executions.js",
        JS,
        include_str!("../web/views/executions.js"),
    ),
    (
        "views/execution.js",
        JS,
        include_str!("../web/views/execution.js"),
    ),
];

const CSS: &str = "text/css; charset=utf-8";
const JS: &str = "text/javascript; charset=utf-8";
const INDEX: &str = include_str!("../web/index.html");
const FAVICON: &str = include_str!("../web/favicon.svg");

/// Every asset path, for tests.
#[cfg(test)]
fn asset_paths() -> impl Iterator<Item = &'static str> {
    ASSETS.iter().map(|(p, _, _)| *p)
}

fn respond(content_type: &'static str, body: &'static str) -> Response {
    let mut resp = body.into_response();
    let h = resp.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    // Assets change with the binary, which keeps the same URLs: always revalidate.
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    resp
}

pub async fn index() -> Response {
    respond("text/html; charset=utf-8", INDEX)
}

pub async fn favicon() -> Response {
    respond("image/svg+xml", FAVICON)
}

pub async fn asset(Path(file): Path<String>) -> Response {
    match ASSETS.iter().find(|(p, _, _)| *p == file) {
        Some((_, ty, body)) => respond(ty, body),
        None => crate::error(
            StatusCode::NOT_FOUND,
            "NotFound",
            format!("no console file {file}"),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_module_import_is_served() {
        // A module imported by another but missing from ASSETS would only fail in a browser.
        let re_import = |src: &str| -> Vec<String> {
            src.lines()
                .filter_map(|l| {
                    let l = l.trim();
                    let rest = l.strip_prefix("import ")?;
                    let q = rest.rfind(['\'', '"'])?;
                    let start = rest[..q].rfind(['\'', '"'])?;
                    Some(rest[start + 1..q].to_string())
                })
                .collect()
        };
        for (path, _, body) in ASSETS {
            let dir = path.rsplit_once('/').map_or("", |(d, _)| d);
            for imp in re_import(body) {
                let mut parts: Vec<&str> = dir.split('/').filter(|s| !s.is_empty()).collect();
                for seg in imp.split('/') {
                    match seg {
                        "." => {}
                        ".." => {
                            parts.pop();
                        }
                        s => parts.push(s),
                    }
                }
                let target = parts.join("/");
                assert!(
                    asset_paths().any(|p| p == target),
                    "{path} imports {imp} ({target}), which is not served"
                );
            }
        }
        assert!(INDEX.contains("/console/app.js"));
    }
}
