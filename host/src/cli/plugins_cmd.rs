//! `planexec plugins list`: what is installed and what each plugin may do.

use super::{exit, report_error, Format, PluginArgs};
use crate::plugins::{resolve_grants, Source};

pub fn list(args: &PluginArgs, format: Format) -> i32 {
    let (_workspace, config, registry) = match super::load_workspace(args) {
        Ok(t) => t,
        Err(c) => return c,
    };
    let mut rows = Vec::new();
    let mut code = exit::OK;
    for p in registry.iter() {
        let sha = match p.component() {
            Ok((_, d)) => d,
            Err(e) => {
                report_error(&e);
                code = exit::USAGE;
                continue;
            }
        };
        let (granted, grants, gap) = match resolve_grants(p, &config.policy, &args.grant, false) {
            Ok(g) => (g.programs.clone(), Some(g), None),
            Err(e) => (
                vec![],
                None,
                Some(e.to_string().lines().next().unwrap_or("").to_string()),
            ),
        };
        let boxed = grants
            .as_ref()
            .map(box_summary)
            .unwrap_or_else(|| "-".into());
        rows.push(serde_json::json!({
            "name": p.name(),
            "kind": p.kind().as_str(),
            "version": p.manifest.version,
            "sha256": sha,
            "source": match &p.source { Source::Standard => "standard".to_string(), Source::Dir(d) => d.display().to_string() },
            "overrides_standard": p.overrides_standard,
            "description": p.manifest.description,
            "requests": p.manifest.requests,
            "granted": granted,
            "grants": grants,
            "box": boxed,
            "not_granted": gap,
        }));
    }
    match format {
        Format::Json => {
            for r in &rows {
                println!("{r}");
            }
        }
        Format::Human => {
            println!(
                "{:<16} {:<12} {:<8} {:<14} {:<28} GRANTED",
                "NAME", "KIND", "VERSION", "SHA256", "REQUESTS"
            );
            for r in &rows {
                let req = r["requests"]["commands"]
                    .as_array()
                    .map(|a| {
                        a.iter()
                            .filter_map(|v| v.as_str())
                            .collect::<Vec<_>>()
                            .join(",")
                    })
                    .unwrap_or_default();
                let granted = r["granted"]
                    .as_array()
                    .map(|a| {
                        a.iter()
                            .filter_map(|v| v.as_str())
                            .collect::<Vec<_>>()
                            .join(",")
                    })
                    .unwrap_or_default();
                let req = format!(
                    "{} ws:{}",
                    if req.is_empty() { "-" } else { &req },
                    r["requests"]["workspace"].as_str().unwrap_or("")
                );
                let line = format!(
                    "{:<16} {:<12} {:<8} {:<14} {:<28} {}",
                    r["name"].as_str().unwrap_or(""),
                    r["kind"].as_str().unwrap_or(""),
                    r["version"].as_str().unwrap_or(""),
                    &r["sha256"].as_str().unwrap_or("")[..12],
                    req,
                    if granted.is_empty() {
                        "-".to_string()
                    } else {
                        granted
                    }
                );
                println!("{}", crate::text::untrusted(&line));
                if let Some(b) = r["box"].as_str().filter(|b| *b != "-") {
                    println!("{:<16} {}", "", crate::text::untrusted(b));
                }
            }
            for r in rows.iter().filter(|r| r["overrides_standard"] == true) {
                let note = format!(
                    "note: `{}` OVERRIDES the standard plugin of that name (from {})",
                    r["name"].as_str().unwrap_or(""),
                    r["source"].as_str().unwrap_or("")
                );
                println!("{}", crate::text::untrusted(&note));
            }
        }
    }
    code
}

/// The network its programs get, the wider grants named as what they open.
fn describe_network(g: &crate::plugins::Grants) -> String {
    use crate::confine::Network;
    match g.network {
        Network::Named => format!("only [{}] through planexec's proxy", g.allow.describe()),
        Network::Full => "FULL (the whole internet and the host's own network)".into(),
        n => n.as_str().into(),
    }
}

/// One line: what the plugin's programs get (shapes, network, writes, env), requested -> granted.
fn box_summary(g: &crate::plugins::Grants) -> String {
    if g.programs.is_empty() {
        return "-".into();
    }
    let shapes: Vec<String> = g
        .programs
        .iter()
        .map(|p| {
            let req: Vec<String> = g
                .requested
                .iter()
                .filter(|r| &r.program == p)
                .map(|r| r.describe())
                .collect();
            let gr: Vec<String> = g
                .granted
                .iter()
                .filter(|r| &r.program == p)
                .map(|r| r.describe())
                .collect();
            match (req.is_empty(), gr.is_empty()) {
                (false, _) => req.join(" | "),
                (true, false) => gr.join(" | "),
                (true, true) => format!("{p} (any arguments)"),
            }
        })
        .collect();
    let list = |v: &[String]| {
        if v.is_empty() {
            "-".to_string()
        } else {
            v.join(",")
        }
    };
    format!(
        "box: runs {}; network {} (requested {}); writes {}; env set {}; env passed {}",
        shapes.join("; "),
        describe_network(g),
        g.requested_network.as_str(),
        list(&g.writes),
        list(&g.env_set),
        list(&g.env_pass)
    )
}
