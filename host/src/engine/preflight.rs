//! Pre-flight: every plugin the run needs is found, granted, compiled and
//! linked before anything changes; acceptance commands' programs are granted.

use crate::config::{Config, GateConfig};
use crate::plugins::{check_configured_program, resolve_grants, Kind, Registry};
use crate::sandbox::{Loaded, Sandbox};
use planexec_plan::Plan;
use planexec_record::Check;

/// The plugins of one run, loaded and ready to instantiate.
pub struct Kit {
    pub implementer: Loaded,
    pub implementer_settings: serde_json::Value,
    pub acceptance: Loaded,
    pub task_gates: Vec<(GateConfig, Loaded)>,
    pub final_gates: Vec<(GateConfig, Loaded)>,
    pub task_review: Option<(Loaded, serde_json::Value)>,
    pub code_review: Option<(Loaded, serde_json::Value)>,
    pub formatters: Vec<(Loaded, serde_json::Value)>,
}

pub struct Inputs<'a> {
    pub config: &'a Config,
    pub registry: &'a Registry,
    pub sandbox: &'a Sandbox,
    pub cli_grants: &'a [String],
    /// `--implementer NAME`, which counts as naming it on the command line.
    pub implementer_override: Option<&'a str>,
    pub plan: &'a Plan,
}

/// Loads everything; on any failure returns the checks so far and the error.
pub fn load_kit(i: &Inputs, checks: &mut Vec<Check>) -> Result<Kit, String> {
    let load =
        |name: &str, kind: Kind, on_cli: bool, checks: &mut Vec<Check>| -> Result<Loaded, String> {
            let what = format!("{kind} `{name}`");
            let r = (|| {
                let p = i.registry.get_kind(name, kind).map_err(|e| e.to_string())?;
                let grants = resolve_grants(p, &i.config.policy, i.cli_grants, on_cli)
                    .map_err(|e| e.to_string())?;
                i.sandbox.load(p, grants).map_err(|e| e.to_string())
            })();
            checks.push(Check {
                name: what.clone(),
                ok: r.is_ok(),
                detail: match &r {
                    Ok(l) => format!(
                        "loaded (sha256 {}, granted: {}){}{}",
                        &l.sha256[..12],
                        if l.grants.programs.is_empty() {
                            "nothing".to_string()
                        } else {
                            l.grants.programs.join(", ")
                        },
                        if l.plugin.overrides_standard {
                            format!(
                                "; OVERRIDES the standard plugin `{name}` ({})",
                                l.plugin.manifest_path.display()
                            )
                        } else {
                            String::new()
                        },
                        l.cache_warning
                            .as_deref()
                            .map(|w| format!("; {w}"))
                            .unwrap_or_default()
                    ),
                    Err(e) => e.lines().next().unwrap_or("").to_string(),
                },
            });
            r.map_err(|e| format!("{what}: {e}"))
        };
    let cfg = i.config;
    checks.push(box_check(cfg.policy.confinement));
    let imp_name = i.implementer_override.unwrap_or(&cfg.run.implementer);
    let implementer = load(
        imp_name,
        Kind::Implementer,
        i.implementer_override.is_some(),
        checks,
    )?;
    let acceptance = load("command", Kind::Gate, false, checks)?;
    // Acceptance commands run whatever the plan says: their programs must be granted.
    for t in &i.plan.tasks {
        for (n, c) in t.acceptance_commands.iter().enumerate() {
            let settings = serde_json::json!({ "command": c });
            let name = format!("acceptance:{}#{}", t.id, n + 1);
            check_configured_program(&acceptance.plugin, &acceptance.grants, &name, &settings)
                .map_err(|e| {
                    checks.push(Check {
                        name: name.clone(),
                        ok: false,
                        detail: e.to_string().lines().next().unwrap_or("").into(),
                    });
                    format!(
                        "{}:{}: task {} acceptance command `{c}`: {e}",
                        t.source.display(),
                        t.line,
                        t.id
                    )
                })?;
        }
    }
    let gates = |list: Vec<GateConfig>,
                 checks: &mut Vec<Check>|
     -> Result<Vec<(GateConfig, Loaded)>, String> {
        let mut out = Vec::new();
        for g in list {
            let l = load(&g.plugin, Kind::Gate, false, checks)
                .map_err(|e| format!("gate `{}`: {e}", g.name))?;
            check_configured_program(&l.plugin, &l.grants, &g.name, &g.settings)
                .map_err(|e| e.to_string())?;
            out.push((g, l));
        }
        Ok(out)
    };
    let task_gates = gates(
        cfg.run.task_gates.iter().map(|n| cfg.gate(n)).collect(),
        checks,
    )?;
    let final_gates = gates(final_gate_configs(cfg, i.plan), checks)?;
    let reviewer = |name: &str,
                    checks: &mut Vec<Check>|
     -> Result<Option<(Loaded, serde_json::Value)>, String> {
        if name.is_empty() {
            return Ok(None);
        }
        let l = load(name, Kind::Reviewer, false, checks)?;
        Ok(Some((l, cfg.reviewer_settings(name))))
    };
    let task_review = reviewer(&cfg.run.task_review, checks)?;
    let code_review = reviewer(&cfg.run.code_review, checks)?;
    let mut formatters = Vec::new();
    let mut names = cfg.run.formatters.clone();
    if i.plan.dialect == planexec_plan::Dialect::Planpipe
        && !names.iter().any(|n| n == "planpipe-status")
    {
        names.push("planpipe-status".into());
    }
    for f in names {
        let l = load(&f, Kind::Formatter, false, checks)?;
        let s = cfg.formatter_settings(&f);
        formatters.push((l, s));
    }
    Ok(Kit {
        implementer_settings: cfg.implementer_settings(imp_name),
        implementer,
        acceptance,
        task_gates,
        final_gates,
        task_review,
        code_review,
        formatters,
    })
}

/// Final gates: the configured ones, else the plan's own quality-gate commands.
pub fn final_gate_configs(cfg: &Config, plan: &Plan) -> Vec<GateConfig> {
    let configured = cfg.final_gates();
    if !configured.is_empty() || cfg.run.final_gates.is_some() {
        return configured;
    }
    plan.final_gates
        .iter()
        .enumerate()
        .map(|(n, c)| GateConfig {
            name: format!("final:{}", n + 1),
            plugin: "command".into(),
            settings: serde_json::json!({ "command": c }),
        })
        .collect()
}

/// What the box around programs will be on this machine, for the record.
fn box_check(confinement: crate::confine::Confinement) -> Check {
    use crate::confine::{Confinement, SUPPORT};
    let missing = SUPPORT.missing();
    let detail = match confinement {
        Confinement::Off => {
            "off (--unconfined or confinement = \"off\"): programs run unboxed".to_string()
        }
        _ if missing.is_empty() => format!(
            "programs boxed: Landlock ABI {}, user/network/PID/mount namespaces, seccomp{}",
            SUPPORT.landlock_abi,
            if SUPPORT.pids_cgroup {
                ", pids cgroup"
            } else {
                ""
            }
        ),
        c => format!(
            "incomplete on this machine ({}); {}",
            missing.join("; "),
            if c == Confinement::BestEffort {
                "running best-effort as the policy allows"
            } else {
                "programs of non-standard plugins will be refused (see `planexec doctor`)"
            }
        ),
    };
    Check {
        name: "box".into(),
        ok: true,
        detail,
    }
}
