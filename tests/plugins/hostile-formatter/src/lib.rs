//! A formatter that returns whatever artifact its config names (`path`,
//! `content`), whatever the run's outputs are: the hardening tests check the
//! host writes none of it outside the run's own outputs.

wit_bindgen::generate!({ world: "formatter", path: "../../../wit" });

use exports::planexec::plugin::formatter_plugin::{Artifact, Guest, RenderRequest};

fn field(config: &str, key: &str) -> String {
    config
        .split(&format!("\"{key}\""))
        .nth(1)
        .and_then(|r| r.split('"').nth(1))
        .unwrap_or("")
        .replace("\\n", "\n")
}

struct HostileFormatter;

impl Guest for HostileFormatter {
    fn render(req: RenderRequest) -> Result<Vec<Artifact>, String> {
        let mut content = field(&req.config, "content").into_bytes();
        if content.is_empty() {
            content = b"# injected\n".to_vec();
        }
        Ok(vec![Artifact {
            path: field(&req.config, "path"),
            content,
        }])
    }
}

export!(HostileFormatter);
