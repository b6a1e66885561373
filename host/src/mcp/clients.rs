//! `planexec mcp --print-config CLIENT`: the snippet each MCP client reads to start
//! `planexec mcp PLAN` (file, format and keys per client; docs/agent-mode.md).

use std::path::Path;

/// The clients whose configuration planexec prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Client {
    Claude,
    Codex,
    Gemini,
    Cursor,
    Vscode,
}

impl Client {
    /// The file the client reads the snippet from (project scope).
    pub fn file(self) -> &'static str {
        match self {
            Client::Claude => ".mcp.json",
            Client::Codex => ".codex/config.toml (or ~/.codex/config.toml)",
            Client::Gemini => ".gemini/settings.json",
            Client::Cursor => ".cursor/mcp.json",
            Client::Vscode => ".vscode/mcp.json",
        }
    }
}

/// The snippet for `client` that starts `program mcp plan`; both paths absolute so
/// the server finds the repository whatever folder the client starts it in.
pub fn snippet(client: Client, program: &Path, plan: &Path) -> String {
    let command = program.to_string_lossy().into_owned();
    let args = vec!["mcp".to_string(), plan.to_string_lossy().into_owned()];
    let server = serde_json::json!({ "command": command, "args": args });
    let json = |v: serde_json::Value| serde_json::to_string_pretty(&v).unwrap_or_default() + "\n";
    match client {
        Client::Claude | Client::Gemini | Client::Cursor => {
            json(serde_json::json!({ "mcpServers": { "planexec": server } }))
        }
        Client::Vscode => json(serde_json::json!({
            "servers": { "planexec": { "type": "stdio", "command": command, "args": args } }
        })),
        Client::Codex => {
            let mut t = toml::Table::new();
            t.insert("command".into(), command.into());
            t.insert("args".into(), args.into());
            let mut servers = toml::Table::new();
            servers.insert("planexec".into(), t.into());
            let mut root = toml::Table::new();
            root.insert("mcp_servers".into(), servers.into());
            toml::to_string(&root).unwrap_or_default()
        }
    }
}

/// The program to name: `planexec` when that is this binary on PATH, else its full path.
pub fn program() -> std::path::PathBuf {
    let me = std::env::current_exe().ok();
    let on_path = std::env::var_os("PATH").and_then(|p| {
        std::env::split_paths(&p)
            .map(|d| d.join("planexec"))
            .find(|c| c.is_file())
    });
    match (me, on_path) {
        (Some(me), Some(found)) if same_file(&me, &found) => "planexec".into(),
        (Some(me), _) => me,
        (None, _) => "planexec".into(),
    }
}

fn same_file(a: &Path, b: &Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_client_gets_its_own_shape() {
        let (p, plan) = (Path::new("/usr/bin/planexec"), Path::new("/r/PLAN.md"));
        let claude: serde_json::Value =
            serde_json::from_str(&snippet(Client::Claude, p, &plan)).unwrap();
        assert_eq!(claude["mcpServers"]["planexec"]["args"][1], "/r/PLAN.md");
        let code: serde_json::Value =
            serde_json::from_str(&snippet(Client::Vscode, p, &plan)).unwrap();
        assert_eq!(code["servers"]["planexec"]["type"], "stdio");
        let codex: toml::Table = snippet(Client::Codex, p, &plan).parse().unwrap();
        assert_eq!(
            codex["mcp_servers"]["planexec"]["command"].as_str(),
            Some("/usr/bin/planexec")
        );
    }
}
