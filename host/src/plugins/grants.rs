//! Capability grants: a plugin may run the programs it requested AND the
//! policy grants; asking for more is an error naming the gap and the fix.

use super::shape::{merge, Grant};
use super::{Plugin, PluginError};
use crate::config::Policy;
use crate::confine::{Confinement, Limits, Network};
use serde::Serialize;

/// What one plugin instance may do through `exec`, and the box its programs get.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Grants {
    /// Program names it may run.
    pub programs: Vec<String>,
    /// The argument shapes the manifest declares for its programs.
    pub requested: Vec<Grant>,
    /// What the policy grants (shaped or not) for those programs.
    pub granted: Vec<Grant>,
    /// Network its programs get: the smaller of its request and the policy's grant.
    pub network: Network,
    pub requested_network: Network,
    /// The allow lists a named network's connections must each pass (request, policy).
    pub allow: crate::proxy::Allow,
    /// Workspace paths its programs may write.
    pub writes: Vec<String>,
    /// Its programs see a copy-on-write workspace (writes vanish after them).
    #[serde(default)]
    pub discard_writes: bool,
    /// Extra read-and-execute roots the policy gives (`[policy] read`).
    pub read: Vec<std::path::PathBuf>,
    /// Variables it may set in `command.env`.
    pub env_set: Vec<String>,
    /// Host variables passed through to its programs.
    pub env_pass: Vec<String>,
    /// `[policy.secrets]`: a placeholder in the box, the value added by the proxy.
    #[serde(skip)]
    pub secrets: Vec<crate::proxy::Secret>,
    pub limits: Limits,
    pub confinement: Confinement,
    /// A plugin of the standard pack (its code ships inside planexec).
    pub standard: bool,
    /// The ignored grants of an untrusted planexec.toml (for what a refusal says).
    #[serde(skip)]
    pub untrusted: Option<crate::config::UntrustedPolicy>,
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

    /// Checks `args` against the manifest's shapes and the policy's shapes for `program`.
    pub fn check_args(&self, program: &str, args: &[String]) -> Result<(), String> {
        for (list, whose) in [
            (&self.requested, "its plugin.toml declares"),
            (&self.granted, "the policy grants"),
        ] {
            let shaped: Vec<&Grant> = list.iter().filter(|g| g.program == program).collect();
            if shaped.is_empty() || shaped.iter().any(|g| g.allows_args(args)) {
                continue;
            }
            return Err(format!(
                "`{program} {}` does not fit the argument shapes {whose}: {}",
                args.join(" "),
                shaped
                    .iter()
                    .map(|g| g.describe())
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
        Ok(())
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
    let req = &plugin.manifest.requests;
    let requested = merge(req.commands.iter().map(|c| Grant::parse(c)));
    let wildcard = requested.iter().any(|g| g.program == "*");
    let mut granted: Vec<Grant> = policy.granted_to(plugin.name());
    granted.extend(cli_grants.iter().map(|g| Grant::parse(g)));
    if named_on_cli && plugin.is_standard() {
        granted.extend(requested.iter().filter(|g| g.program != "*").cloned());
    }
    let granted = merge(granted);
    let programs: Vec<String> = if wildcard {
        granted.iter().map(|g| g.program.clone()).collect()
    } else {
        let missing: Vec<&str> = requested
            .iter()
            .map(|g| g.program.as_str())
            .filter(|p| !granted.iter().any(|g| g.program == *p))
            .collect();
        if !missing.is_empty() {
            return Err(not_granted(plugin, &missing, policy));
        }
        requested.iter().map(|g| g.program.clone()).collect()
    };
    let granted: Vec<Grant> = granted
        .into_iter()
        .filter(|g| programs.contains(&g.program))
        .collect();
    let policy_writes = policy.writes_for(plugin.name());
    let ungranted: Vec<&String> = req
        .writes
        .iter()
        .filter(|w| !plugin.is_standard() && !policy_writes.contains(w))
        .collect();
    if let Some(w) = ungranted.first() {
        return Err(PluginError::NotGranted(format!(
            "{}: field `requests.writes`: plugin `{}` asks to write `{w}` in the workspace, which the policy does not grant\n  \
             grant it in planexec.toml:
    [policy.plugins.{}]
    writes = [\"{w}\"]",
            plugin.manifest_path.display(),
            plugin.name(),
            plugin.name()
        )));
    }
    // The policy may also let a plugin's programs write more than it asked
    // (a pytest run under coverage writes `.coverage`).
    let mut writes = req.writes.clone();
    for w in &policy_writes {
        if !writes.contains(w) {
            writes.push(w.clone());
        }
    }
    let policy_env = policy.env_for(plugin.name());
    let env_set = req
        .env
        .iter()
        .filter(|e| plugin.is_standard() || policy_env.contains(e))
        .cloned()
        .collect();
    let max = match &policy.limits {
        Some(t) => t
            .apply(Limits::default(), "policy.limits")
            .map_err(PluginError::NotGranted)?,
        None => Limits::default(),
    };
    // Its request within the policy's maximum; the policy may set any of them
    // for this plugin alone (trusted, so above the maximum too).
    let mut limits = req.limits.min(max);
    if let Some(t) = policy.limits_for(plugin.name()) {
        let what = format!("policy.plugins.{}.limits", plugin.name());
        limits = t.apply(limits, &what).map_err(PluginError::NotGranted)?;
    }
    let (network, allow) = network_grant(plugin, policy);
    Ok(Grants {
        programs,
        requested: if wildcard { vec![] } else { requested },
        granted,
        network,
        allow,
        requested_network: req.network,
        discard_writes: req.discard_writes && writes.is_empty(),
        writes,
        read: policy.read.clone(),
        env_set,
        env_pass: policy_env,
        secrets: crate::proxy::Secret::from_policy(&policy.secrets, |k| std::env::var(k).ok()),
        limits,
        confinement: policy.confinement,
        standard: plugin.is_standard(),
        untrusted: policy.untrusted.clone(),
    })
}

/// The smaller of the requested and granted network; for a named network,
/// the allow lists of both sides that are named (a connection must pass each).
fn network_grant(plugin: &Plugin, policy: &Policy) -> (Network, crate::proxy::Allow) {
    let req = &plugin.manifest.requests;
    let (granted, granted_allow) = policy.network_for(plugin.name());
    let network = req.network.min(granted);
    let mut lists = Vec::new();
    if network == Network::Named {
        if req.network == Network::Named {
            lists.push(req.allow.clone());
        }
        if granted == Network::Named {
            lists.push(granted_allow);
        }
    }
    (network, crate::proxy::Allow { lists })
}

fn not_granted(plugin: &Plugin, missing: &[&str], policy: &Policy) -> PluginError {
    let hint = policy.untrusted.as_ref().and_then(|u| u.hint(missing[0]));
    if let Some(h) = hint {
        return PluginError::NotGranted(format!(
            "{}: plugin `{}` asks to run `{}`, which the policy does not grant: {h}",
            plugin.manifest_path.display(),
            plugin.name(),
            missing[0]
        ));
    }
    let list = missing
        .iter()
        .map(|m| format!("\"{m}\""))
        .collect::<Vec<_>>()
        .join(", ");
    PluginError::NotGranted(format!(
        "{}: field `requests.commands`: plugin `{}` asks to run {list}, which the policy does not grant\n  \
         grant it in planexec.toml:\n    [policy]\n    grant = [{list}]\n  \
         or for this plugin only:\n    [policy.plugins.{}]\n    grant = [{list}]\n  \
         or for one invocation: --grant {}",
        plugin.manifest_path.display(),
        plugin.name(),
        plugin.name(),
        missing[0]
    ))
}

/// For plugins that run whatever their settings name (`program` / `command`),
/// checks that program is granted before anything runs.
pub fn check_configured_program(
    plugin: &Plugin,
    grants: &Grants,
    gate_name: &str,
    settings: &serde_json::Value,
) -> Result<(), PluginError> {
    let strings = |v: &serde_json::Value| -> Vec<String> {
        v.as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|x| x.as_str().map(String::from))
                    .collect()
            })
            .unwrap_or_default()
    };
    let (program, args) = match (settings.get("program"), settings.get("command")) {
        (Some(serde_json::Value::String(p)), _) => (
            p.clone(),
            settings.get("args").map(strings).unwrap_or_default(),
        ),
        (_, Some(serde_json::Value::String(c))) => {
            let mut w = c.split_whitespace().map(String::from);
            let program = w.next().unwrap_or_default();
            // Quoted words split differently in the plugin: their shape is checked when it runs.
            if c.contains(['"', '\'', '\\']) {
                return check_program_only(plugin, grants, gate_name, &program);
            }
            (program, w.collect())
        }
        (_, Some(v @ serde_json::Value::Array(_))) => {
            let mut w = strings(v).into_iter();
            (w.next().unwrap_or_default(), w.collect())
        }
        _ => return Ok(()),
    };
    if program.is_empty() || !grants.allows(&program) {
        return check_program_only(plugin, grants, gate_name, &program);
    }
    grants.check_args(&program, &args).map_err(|e| {
        PluginError::NotGranted(format!(
            "gate `{gate_name}` (plugin `{}`): {e}\n  widen the grant in planexec.toml [policy] grant, or change the command",
            plugin.name()
        ))
    })
}

fn check_program_only(
    plugin: &Plugin,
    grants: &Grants,
    gate_name: &str,
    program: &str,
) -> Result<(), PluginError> {
    if program.is_empty() || grants.allows(program) {
        return Ok(());
    }
    if let Some(h) = grants.untrusted.as_ref().and_then(|u| u.hint(program)) {
        return Err(PluginError::NotGranted(format!(
            "gate `{gate_name}` (plugin `{}`) would run `{program}`, which the policy does not grant: {h}",
            plugin.name()
        )));
    }
    Err(PluginError::NotGranted(format!(
        "gate `{gate_name}` (plugin `{}`) would run `{program}`, which the policy does not grant\n  \
         grant it in planexec.toml:\n    [policy]\n    grant = [\"{program}\"]\n  or for one invocation: --grant {program}",
        plugin.name()
    )))
}
