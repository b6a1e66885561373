//! Pre-flight: the repository (branch, dirt, stale locks), every plugin's
//! settings, and every plugin the run needs found, granted, compiled and
//! linked before anything changes; acceptance commands' programs are granted.

use crate::config::{Config, GateConfig};
use crate::plugins::{check_configured_program, resolve_grants, Kind, Registry};
use crate::sandbox::{Loaded, Sandbox};
use planexec_plan::Plan;
use planexec_record::Check;
use planexec_vcs::{IndexLock, Repo};
use std::path::{Path, PathBuf};

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
            push_check(
                checks,
                Check {
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
                },
            );
            r.map_err(|e| format!("{what}: {e}"))
        };
    let cfg = i.config;
    checks.push(box_check(cfg.policy.confinement));
    if let Some(c) = secrets_check(&cfg.policy, |k| std::env::var(k).ok()) {
        let failed = (!c.ok).then(|| c.detail.clone());
        checks.push(c);
        if let Some(why) = failed {
            return Err(why);
        }
    }
    let imp_name = i.implementer_override.unwrap_or(&cfg.run.implementer);
    let implementer = load(
        imp_name,
        Kind::Implementer,
        i.implementer_override.is_some(),
        checks,
    )?;
    let imp_section = format!("implementers.{imp_name}");
    settings_env(
        cfg,
        &imp_section,
        &cfg.implementer_settings(imp_name),
        &implementer,
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
        let settings = cfg.reviewer_settings(name);
        settings_env(cfg, &format!("reviewers.{name}"), &settings, &l, checks)?;
        Ok(Some((l, settings)))
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

/// A settings table's `env` (an agent's variables) checked as the box will check it
/// at run time, so a variable the plugin may not set stops pre-flight, not a task.
fn settings_env(
    cfg: &Config,
    section: &str,
    settings: &serde_json::Value,
    l: &Loaded,
    checks: &mut Vec<Check>,
) -> Result<(), String> {
    let Some(env) = settings.get("env").and_then(|e| e.as_object()) else {
        return Ok(());
    };
    let vars: Vec<(String, String)> = env.keys().map(|k| (k.clone(), String::new())).collect();
    let none = Path::new("");
    let spec = crate::confine::env::EnvSpec {
        plugin: l.name(),
        settable: &l.grants.env_set,
        standard: l.grants.standard,
        pass: &[],
        home: none,
        tmp: none,
        cache: none,
        workspace: none,
        pycache: None,
    };
    let Err(e) = crate::confine::env::check_plugin_env(&spec, &vars) else {
        return Ok(());
    };
    let file = cfg
        .path
        .clone()
        .unwrap_or_else(|| PathBuf::from(crate::config::FILE_NAME));
    let text = std::fs::read_to_string(&file).unwrap_or_default();
    let line = crate::plugins::settings::key_line(&text, section, "env")
        .map(|n| format!(":{n}"))
        .unwrap_or_default();
    let why = format!("{}{line}: [{section}] env: {e}", file.display());
    checks.push(Check {
        name: format!("[{section}] env"),
        ok: false,
        detail: why.clone(),
    });
    Err(why)
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
            files: None,
            flags: Default::default(),
        })
        .collect()
}

/// What the box around programs will be on this machine, for the record.
/// `[policy.secrets]`: each needs its host variable set, found here rather than
/// by an agent failing to log in cycle after cycle.
fn secrets_check(
    policy: &crate::config::Policy,
    host: impl Fn(&str) -> Option<String>,
) -> Option<Check> {
    if policy.secrets.is_empty() {
        return None;
    }
    let unset: Vec<String> = policy
        .secrets
        .iter()
        .filter(|(_, r)| host(&r.from_env).is_none_or(|v| v.is_empty()))
        .map(|(n, r)| format!("`{n}` (from_env = \"{}\")", r.from_env))
        .collect();
    let detail = if unset.is_empty() {
        format!(
            "{}: a placeholder in the box, the value added by planexec's proxy for the listed hosts",
            policy.secrets.keys().cloned().collect::<Vec<_>>().join(", ")
        )
    } else {
        format!(
            "[policy.secrets] {}: the host variable is not set; export it before the run, \
             or remove the entry",
            unset.join(", ")
        )
    };
    Some(Check {
        name: "secrets".into(),
        ok: unset.is_empty(),
        detail,
    })
}

fn box_check(confinement: crate::confine::Confinement) -> Check {
    use crate::confine::{Confinement, SUPPORT};
    let missing = SUPPORT.missing();
    let detail = match confinement {
        Confinement::Off => {
            "off (--unconfined or confinement = \"off\"): programs run unboxed".to_string()
        }
        _ if missing.is_empty() => format!(
            "programs boxed: Landlock ABI {}, user/network/PID/mount/IPC namespaces, own /proc, no terminal, seccomp{}",
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

/// The repository the plan lives in: found from the plan's own folder, so a
/// plan given by an absolute path works from any current directory.
pub fn discover_repo(cwd: &Path, plan: &Path) -> Result<Repo, planexec_vcs::VcsError> {
    let abs = if plan.is_absolute() {
        plan.to_path_buf()
    } else {
        cwd.join(plan)
    };
    let start = if abs.is_dir() {
        abs.as_path()
    } else {
        abs.parent().unwrap_or(cwd)
    };
    Repo::discover(if start.exists() { start } else { cwd })
}

/// Branch, HEAD, dirtiness (submodules included) and a stale `index.lock`:
/// refuses a detached HEAD unless allowed, removes a lock no process holds.
pub fn repo_checks(repo: &Repo, allow_detached: bool) -> Result<Vec<Check>, String> {
    let mut checks = Vec::new();
    let ok = |name: &str, detail: String| Check {
        name: name.into(),
        ok: true,
        detail,
    };
    match repo.clear_stale_index_lock().map_err(|e| e.to_string())? {
        IndexLock::Absent => {}
        IndexLock::RemovedStale(p) => checks.push(ok(
            "index.lock",
            format!("removed a stale {} (no process had it open)", p.display()),
        )),
    }
    let branch = repo.branch().map_err(|e| e.to_string())?;
    let head = repo.head().map_err(|e| e.to_string())?;
    if branch == "(detached)" {
        if !allow_detached {
            return Err(format!(
                "HEAD is detached (at {}): the task commits would be on no branch, reachable only through the reflog; \
                 check out a branch first (`git switch -c NAME`), or pass --allow-detached",
                head.as_deref().unwrap_or("?")
            ));
        }
        checks.push(ok(
            "branch",
            "(detached; allowed by --allow-detached: the commits are on no branch)".into(),
        ));
    } else {
        checks.push(ok("branch", branch));
    }
    checks.push(ok(
        "HEAD",
        head.unwrap_or_else(|| "(no commits yet)".into()),
    ));
    let dirty = repo.is_dirty().map_err(|e| e.to_string())?;
    let subs = repo.dirty_submodules().map_err(|e| e.to_string())?;
    checks.push(ok(
        "dirty",
        if subs.is_empty() {
            dirty.to_string()
        } else {
            format!(
                "true (submodules with changes of their own, not part of the rollback commit: {})",
                subs.join(", ")
            )
        },
    ));
    Ok(checks)
}

/// Every plugin's settings table in planexec.toml against the keys the plugin
/// declares (`[config] keys` in its plugin.toml): an unknown key is an error
/// naming file:line and the keys allowed, before anything changes.
pub fn check_plugin_tables(
    config: &Config,
    registry: &Registry,
    checks: &mut Vec<Check>,
) -> Result<(), String> {
    let (ok, detail) = match crate::plugins::check_settings(config, registry) {
        Ok((checked, all)) => (
            true,
            format!(
                "{checked} of {all} settings tables checked against the keys their plugins declare"
            ),
        ),
        Err(e) => (false, e.to_string()),
    };
    checks.push(Check {
        name: "plugin settings".into(),
        ok,
        detail: detail.clone(),
    });
    if ok {
        Ok(())
    } else {
        Err(detail)
    }
}

/// A pre-flight check, once: a check already listed under that name is not repeated.
pub fn push_check(checks: &mut Vec<Check>, c: Check) {
    if !checks.iter().any(|x| x.name == c.name && x.ok == c.ok) {
        checks.push(c);
    }
}

/// Records a resume in the run's checks: one `resumed` entry that counts them,
/// and what this resume's repository checks repaired (`index.lock at resume`).
pub fn note_resumed(checks: &mut Vec<Check>, at: String, fresh: &[Check]) {
    checks.retain(|c| c.name != "index.lock at resume");
    if let Some(lock) = fresh.iter().find(|c| c.name == "index.lock") {
        checks.push(Check {
            name: "index.lock at resume".into(),
            ..lock.clone()
        });
    }
    let prior = checks.iter().position(|c| c.name == "resumed");
    let count = prior
        .map(|i| {
            let d = &checks[i].detail;
            d.rsplit_once("(resume ")
                .and_then(|(_, n)| n.trim_end_matches(')').parse::<u32>().ok())
                .unwrap_or(1)
        })
        .unwrap_or(0)
        + 1;
    let c = Check {
        name: "resumed".into(),
        ok: true,
        detail: format!("{at} (resume {count})"),
    };
    match prior {
        Some(i) => checks[i] = c,
        None => checks.push(c),
    }
}

/// Removes temp files an older planexec (or one on another file system than
/// .git) left beside its own outputs when killed mid-write:
/// `.<name>.planexec-<pid>.tmp` next to each of `own_files`.
pub fn remove_stray_temps(own_files: &[PathBuf]) {
    for f in own_files {
        let (Some(dir), Some(name)) = (f.parent(), f.file_name()) else {
            continue;
        };
        let prefix = format!(".{}.planexec-", name.to_string_lossy());
        let Ok(entries) = std::fs::read_dir(dir) else {
            continue;
        };
        for e in entries.flatten() {
            let n = e.file_name().to_string_lossy().into_owned();
            let pid = n.strip_prefix(&prefix).and_then(|r| r.strip_suffix(".tmp"));
            if pid.is_some_and(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
                && e.file_type().is_ok_and(|t| t.is_file())
            {
                let _ = std::fs::remove_file(e.path());
            }
        }
    }
}

/// Takes the repository lock (refusing while another run or
/// rollback is live) and says so when it took over a dead holder's lock.
pub fn take_lock(
    repo: &Repo,
    plan_key: &str,
    resume: bool,
    reporter: &mut crate::report::Reporter,
) -> Result<crate::lock::RepoLock, super::EngineError> {
    let holder = crate::lock::Holder {
        pid: std::process::id(),
        run_id: String::new(),
        plan: plan_key.to_string(),
        action: if resume { "resume" } else { "run" }.into(),
        since: super::now(),
    };
    let lock = crate::lock::RepoLock::acquire(repo.git().path(), holder)
        .map_err(super::EngineError::Locked)?;
    if let Some(old) = &lock.took_over {
        reporter.emit(crate::report::Event::Message {
            level: crate::report::Level::Warn,
            text: format!(
                "took over the repository lock of pid {} ({} of {}), which is no longer running",
                old.pid, old.action, old.plan
            ),
        });
    }
    Ok(lock)
}
