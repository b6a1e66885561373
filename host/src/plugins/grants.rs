//! Capability grants: a plugin may run the programs it requested AND the
//! policy grants; asking for more is an error naming the gap and the fix.

use super::{Plugin, PluginError};
use crate::config::Policy;
use serde::Serialize;

/// The programs one plugin instance may run.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Grants {
    pub programs: Vec<String>,
}

impl Grants {
    /// Whether `program` (a name, or a path whose file name is checked) is granted.
    pub fn allows(&self, program: &str) -> bool {
        let base = std::path::Path::new(program)
            .file_name()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        self.programs
            .iter()
            .any(|g| g == program || (!program.contains('/') && g == &base))
    }
}

/// Resolves what `plugin` may run under `policy` plus `cli_grants` (--grant).
/// `named_on_cli`: a standard plugin named on the command line may run the
/// programs it requests by name with no configuration.
pub fn resolve_grants(
    plugin: &Plugin,
    policy: &Policy,
    cli_grants: &[String],
    named_on_cli: bool,
) -> Result<Grants, PluginError> {
    let mut granted: Vec<String> = policy.granted_to(plugin.name());
    granted.extend(cli_grants.iter().cloned());
    let requested = &plugin.manifest.requests.commands;
    let wildcard = requested.iter().any(|c| c == "*");
    if named_on_cli && plugin.is_standard() {
        granted.extend(requested.iter().filter(|c| *c != "*").cloned());
    }
    granted.sort();
    granted.dedup();
    let programs: Vec<String> = if wildcard {
        granted
    } else {
        let missing: Vec<&String> = requested.iter().filter(|c| !granted.contains(c)).collect();
        if !missing.is_empty() {
            let list = missing
                .iter()
                .map(|m| format!("\"{m}\""))
                .collect::<Vec<_>>()
                .join(", ");
            return Err(PluginError::NotGranted(format!(
                "{}: field `requests.commands`: plugin `{}` asks to run {list}, which the policy does not grant\n  \
                 grant it in planexec.toml:\n    [policy]\n    grant = [{list}]\n  \
                 or for this plugin only:\n    [policy.plugins.{}]\n    grant = [{list}]\n  \
                 or for one invocation: --grant {}",
                plugin.manifest_path.display(),
                plugin.name(),
                plugin.name(),
                missing[0]
            )));
        }
        requested.clone()
    };
    Ok(Grants { programs })
}

/// For plugins that run whatever their settings name (`program` / `command`),
/// checks that program is granted before anything runs.
pub fn check_configured_program(
    plugin: &Plugin,
    grants: &Grants,
    gate_name: &str,
    settings: &serde_json::Value,
) -> Result<(), PluginError> {
    let program = match (settings.get("program"), settings.get("command")) {
        (Some(serde_json::Value::String(p)), _) => p.clone(),
        (_, Some(serde_json::Value::String(c))) => {
            c.split_whitespace().next().unwrap_or("").to_string()
        }
        (_, Some(serde_json::Value::Array(a))) => {
            a.first().and_then(|v| v.as_str()).unwrap_or("").to_string()
        }
        _ => return Ok(()),
    };
    if program.is_empty() || grants.allows(&program) {
        return Ok(());
    }
    Err(PluginError::NotGranted(format!(
        "gate `{gate_name}` (plugin `{}`) would run `{program}`, which the policy does not grant\n  \
         grant it in planexec.toml:\n    [policy]\n    grant = [\"{program}\"]\n  or for one invocation: --grant {program}",
        plugin.name()
    )))
}
