//! JSON text as AWS writes it in history events and outputs: compact, key order preserved.

use serde_json::Value;

pub fn to_text(v: &Value) -> String {
    serde_json::to_string(v).unwrap_or_else(|_| "null".to_string())
}

/// The length in bytes of `to_text(v)`, without building the text: payload limits are checked
/// on every state output even when nothing else needs the text.
pub fn text_len(v: &Value) -> usize {
    struct Count(usize);
    impl std::io::Write for Count {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0 += buf.len();
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut c = Count(0);
    match serde_json::to_writer(&mut c, v) {
        Ok(()) => c.0,
        Err(_) => usize::MAX,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn text_len_matches_text() {
        for v in [
            json!(null),
            json!({"a": [1, 2.5, "é\"x"]}),
            json!("\u{1F600}"),
        ] {
            assert_eq!(text_len(&v), to_text(&v).len());
        }
    }
}
