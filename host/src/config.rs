//! planexec.toml: the team's policy (what plugins may run), the gates and
//! their settings, the run's reviewers, implementer, formatters and tolerances.

use crate::confine::{Confinement, Network, NetworkSetting};
use crate::plugins::{manifest_error_line, Grant, GrantEntry, LimitsTable};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

pub const FILE_NAME: &str = "planexec.toml";

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{path}: cannot read: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: {message}\n  see docs/configuration.md for the keys planexec.toml accepts")]
    Invalid { path: PathBuf, message: String },
    #[error(transparent)]
    Input(#[from] crate::input::InputError),
}

/// What one plugin is granted besides the global policy.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PluginPolicy {
    #[serde(default)]
    pub grant: Vec<GrantEntry>,
    /// Host variables passed through, and names this plugin may set.
    #[serde(default)]
    pub env: Vec<String>,
    #[serde(default)]
    pub network: Option<NetworkSetting>,
    /// Workspace paths this plugin's programs may write.
    #[serde(default)]
    pub writes: Vec<String>,
    /// This plugin's programs' limits, set by the policy (above `[policy.limits]` too):
    /// a test suite that starts 2,000 threads, a Node CLI that needs more memory.
    #[serde(default)]
    pub limits: Option<LimitsTable>,
}

/// What plugins may run and what the programs they run may touch.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Policy {
    /// Granted to every plugin (each still gets only what it requests):
    /// `"git"`, `"python3 -m pytest *"`, `{ program = "git", args = ["diff *"] }`.
    #[serde(default)]
    pub grant: Vec<GrantEntry>,
    /// Host variables passed through to boxed programs, and names plugins may set.
    #[serde(default)]
    pub env: Vec<String>,
    /// The most network any plugin's programs get (default "loopback": a private one;
    /// `{ allow = ["host:port", ...] }`: only those hosts, through planexec's proxy).
    #[serde(default)]
    pub network: Option<NetworkSetting>,
    /// Workspace paths (relative) or other directories (absolute) any plugin's
    /// programs may write (standard plugins also get the ones they declare).
    #[serde(default)]
    pub writes: Vec<String>,
    /// Extra directories boxed programs may read and execute (agent CLIs, tool installs).
    #[serde(default)]
    pub read: Vec<PathBuf>,
    /// "required" (default), "best-effort", or "off" when the kernel cannot confine.
    #[serde(default)]
    pub confinement: Confinement,
    /// The most any manifest may ask for (`memory`, `processes`, `cpu`, `file-size`, `disk`).
    #[serde(default)]
    pub limits: Option<LimitsTable>,
    /// Granted to one plugin, by plugin name.
    #[serde(default)]
    pub plugins: BTreeMap<String, PluginPolicy>,
    /// Keys boxed programs see only as a placeholder; the network proxy puts the
    /// value into requests to the listed hosts (`NAME = { from_env, hosts }`).
    #[serde(default)]
    pub secrets: BTreeMap<String, crate::proxy::SecretRule>,
    /// The grants of the repository's planexec.toml when it was not trusted (ignored),
    /// so that a refusal can say to trust it rather than to add what it already has.
    #[serde(skip)]
    pub untrusted: Option<UntrustedPolicy>,
}

/// The `[policy]` of a planexec.toml that was not trusted: what it would have granted.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UntrustedPolicy {
    pub path: PathBuf,
    /// Programs its `[policy] grant` and `[policy.plugins.*] grant` name.
    pub programs: Vec<String>,
    /// It was trusted before with other content (edited since), not never.
    pub changed: bool,
}

impl UntrustedPolicy {
    /// The programs `table`'s `[policy]` grants (first word of a text grant, or `program`).
    fn programs_of(table: &toml::Table) -> Vec<String> {
        let Some(policy) = table.get("policy").and_then(|p| p.as_table()) else {
            return vec![];
        };
        let per_plugin = policy
            .get("plugins")
            .and_then(|p| p.as_table())
            .into_iter()
            .flat_map(|t| t.values())
            .filter_map(|v| v.get("grant"));
        let lists = policy.get("grant").into_iter().chain(per_plugin);
        let entries = lists.filter_map(|l| l.as_array()).flatten();
        entries
            .filter_map(|e| match e {
                toml::Value::String(s) => s.split_whitespace().next().map(String::from),
                toml::Value::Table(t) => t.get("program")?.as_str().map(String::from),
                _ => None,
            })
            .collect()
    }

    /// What to say when `program` is refused and this file grants it.
    pub fn hint(&self, program: &str) -> Option<String> {
        let base = Path::new(program)
            .file_name()
            .map(|b| b.to_string_lossy().into_owned())
            .unwrap_or_default();
        if !self.programs.iter().any(|p| p == program || *p == base) {
            return None;
        }
        let why = if self.changed {
            "it changed since you last ran `planexec trust`"
        } else {
            "it was never trusted"
        };
        Some(format!(
            "{} grants `{program}`, but {why}, so its [policy] was ignored\n  \
             review the file, then run `planexec trust` (in CI: --policy FILE from your base branch, docs/ci.md)",
            self.path.display()
        ))
    }
}

impl Policy {
    pub fn granted_to(&self, plugin: &str) -> Vec<Grant> {
        let mut g: Vec<Grant> = self.grant.iter().map(GrantEntry::to_grant).collect();
        if let Some(p) = self.plugins.get(plugin) {
            g.extend(p.grant.iter().map(GrantEntry::to_grant));
        }
        g
    }

    /// Variable names granted to `plugin` (pass-through and settable).
    pub fn env_for(&self, plugin: &str) -> Vec<String> {
        let mut e = self.env.clone();
        if let Some(p) = self.plugins.get(plugin) {
            e.extend(p.env.iter().cloned());
        }
        e
    }

    pub fn writes_for(&self, plugin: &str) -> Vec<String> {
        let mut w = self.writes.clone();
        if let Some(p) = self.plugins.get(plugin) {
            w.extend(p.writes.iter().cloned());
        }
        w
    }

    /// The plugin's own `[policy.plugins.NAME.limits]`, if any.
    pub fn limits_for(&self, plugin: &str) -> Option<&LimitsTable> {
        self.plugins.get(plugin).and_then(|p| p.limits.as_ref())
    }

    /// The plugin's own network grant, else the global one, else a private
    /// loopback; with the allow list of a named network.
    pub fn network_for(&self, plugin: &str) -> (Network, Vec<crate::proxy::Rule>) {
        self.plugins
            .get(plugin)
            .and_then(|p| p.network.as_ref())
            .or(self.network.as_ref())
            .map(|n| n.resolve().unwrap_or((Network::None, Vec::new())))
            .unwrap_or((Network::Loopback, Vec::new()))
    }

    /// Checks every `network` setting (its allow entries parse).
    pub fn check_network(&self) -> Result<(), String> {
        let all = std::iter::once(("[policy] network".to_string(), self.network.as_ref())).chain(
            self.plugins
                .iter()
                .map(|(n, p)| (format!("[policy.plugins.{n}] network"), p.network.as_ref())),
        );
        for (at, n) in all {
            if let Some(n) = n {
                n.resolve().map_err(|e| format!("{at}: {e}"))?;
            }
        }
        Ok(())
    }
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PluginDirs {
    /// Extra plugin folders, relative to the workspace.
    #[serde(default)]
    pub dirs: Vec<PathBuf>,
}

/// `[packs.NAME]`: a shared plugin pack, pinned in planexec.lock (docs/packs.md).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PackTable {
    /// A folder, `git+URL#REV`, or an http(s) `.tar.gz` URL.
    pub source: String,
}

/// `[run]`: how `planexec run` drives tasks.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RunConfig {
    pub implementer: String,
    /// Gates run after each task's implementation (besides its acceptance commands).
    pub task_gates: Vec<String>,
    /// Gates run after the last task; default: every `[gates.*]` in file order.
    pub final_gates: Option<Vec<String>>,
    /// Reviewer for spec compliance; "" disables.
    pub task_review: String,
    /// Reviewer for code quality, run only after the task review passed; "" disables.
    pub code_review: String,
    /// Failed cycles before a task is blocked.
    pub max_cycles: u32,
    pub formatters: Vec<String>,
    /// How the repository's pre-commit and commit-msg hooks run on task commits.
    pub git_hooks: GitHooks,
}

/// `[run] git_hooks`: the repository's hooks on task commits run in a box (the default;
/// `true` means the same), or not at all (`"off"`, `false`). Never outside the box: a
/// hook runs the task's own code (its tests), which is no more trusted than a gate's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum GitHooks {
    #[default]
    Boxed,
    Off,
}

impl<'de> Deserialize<'de> for GitHooks {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Bool(bool),
            Text(String),
        }
        match Raw::deserialize(d)? {
            Raw::Bool(true) => Ok(GitHooks::Boxed),
            Raw::Bool(false) => Ok(GitHooks::Off),
            Raw::Text(t) if t == "boxed" => Ok(GitHooks::Boxed),
            Raw::Text(t) if t == "off" => Ok(GitHooks::Off),
            Raw::Text(t) => Err(serde::de::Error::custom(format!(
                "git_hooks = {t:?}: use \"boxed\" (hooks run in the box) or \"off\"; hooks never run outside the box"
            ))),
        }
    }
}

impl Default for RunConfig {
    fn default() -> Self {
        RunConfig {
            implementer: "manual".into(),
            task_gates: vec![],
            final_gates: None,
            task_review: "task-review".into(),
            code_review: "code-review".into(),
            max_cycles: 3,
            formatters: vec!["execution-log".into()],
            git_hooks: GitHooks::Boxed,
        }
    }
}

/// `[tolerances]`: used when the plan has no Tolerances section.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Tolerances {
    pub max_files: Option<u32>,
    pub max_net_lines: Option<u32>,
    pub max_attempts: Option<u32>,
    pub max_minutes: Option<u64>,
    /// Run-wide budgets, checked after each cycle and before the next one.
    pub max_cost_usd: Option<f64>,
    pub max_tokens: Option<u64>,
    pub max_run_minutes: Option<u64>,
}

/// `[review]`: how the engine judges a task's proof besides its gates.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ReviewPolicy {
    /// Red before green: new or changed tests must fail without the task's change.
    #[serde(default)]
    pub tests_must_fail_first: FailFirst,
}

/// `[hooks]`: what planexec's git hooks check besides the gates.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct HooksConfig {
    /// `[hooks.commit-msg]`: the rules of the commit-msg hook.
    #[serde(default, rename = "commit-msg")]
    pub commit_msg: CommitMsgRules,
}

/// The commit-msg hook's rules (`planexec hooks commit-msg FILE`).
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct CommitMsgRules {
    /// A regular expression the subject line must match (`'^(T\d{3}|docs|fix): '`).
    #[serde(default)]
    pub pattern: Option<String>,
    /// Characters the subject line may have (0: any number).
    #[serde(default = "default_max_subject")]
    pub max_subject: usize,
}

fn default_max_subject() -> usize {
    72
}

impl Default for CommitMsgRules {
    fn default() -> Self {
        CommitMsgRules {
            pattern: None,
            max_subject: default_max_subject(),
        }
    }
}

/// What a new test that passes without the change costs the task review.
#[derive(Debug, Clone, Copy, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum FailFirst {
    /// WEAK for any such test, FAIL (rework) when every new test passes without the change.
    #[default]
    Fail,
    /// WEAK at most.
    Weak,
    /// Not checked.
    Off,
}

/// One configured gate: the plugin behind it and its settings.
#[derive(Debug, Clone, PartialEq)]
pub struct GateConfig {
    pub name: String,
    pub plugin: String,
    /// Everything else in the table, handed to the plugin as JSON.
    pub settings: serde_json::Value,
    /// `files = ["*.py"]`: the files the gate checks under `gate run --staged/--changed`
    /// (none: its plugin's defaults, see `gates/files.rs`).
    pub files: Option<Vec<String>>,
    /// `drop_flags` / `replace_flags`: edits to the arguments of the programs it runs.
    pub flags: crate::gates::flags::FlagEdits,
}

/// `[limits]`: ceilings on what plugins may ask for; set by trusted sources only.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Limits {
    /// The longest `requests.timeout` a manifest may ask for (default 1h).
    pub max_timeout: Option<String>,
    /// Time one plugin call may spend in the programs it runs, summed (default 1h).
    pub max_exec_time: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Raw {
    #[serde(default)]
    limits: Limits,
    #[serde(default)]
    policy: Policy,
    #[serde(default)]
    plugins: PluginDirs,
    #[serde(default)]
    packs: BTreeMap<String, PackTable>,
    #[serde(default)]
    gates: toml::Table,
    #[serde(default)]
    run: Option<RunConfig>,
    #[serde(default)]
    tolerances: Option<Tolerances>,
    #[serde(default)]
    review: ReviewPolicy,
    #[serde(default)]
    hooks: HooksConfig,
    #[serde(default)]
    reviewers: toml::Table,
    #[serde(default)]
    implementers: toml::Table,
    #[serde(default)]
    formatters: toml::Table,
}

/// The top-level tables of planexec.toml.
const SECTIONS: [&str; 12] = [
    "limits",
    "policy",
    "plugins",
    "packs",
    "gates",
    "run",
    "tolerances",
    "review",
    "hooks",
    "reviewers",
    "implementers",
    "formatters",
];

/// For an unknown top-level table that is a known one but for its plural
/// (`[implementer.manual]`): the hint that names the right one.
fn suggest_section(e: &toml::de::Error) -> String {
    let msg = e.message();
    let Some(rest) = msg.strip_prefix("unknown field `") else {
        return String::new();
    };
    let unknown = rest.split('`').next().unwrap_or("").to_ascii_lowercase();
    let near = SECTIONS.iter().find(|s| {
        **s == format!("{unknown}s")
            || format!("{s}s") == unknown
            || **s == unknown.replace('-', "_")
    });
    match near {
        Some(s) => {
            format!("\n  did you mean [{s}]? (for example [{s}.NAME] for one plugin's settings)")
        }
        None => String::new(),
    }
}

/// The whole planexec.toml (or defaults when there is none).
#[derive(Debug, Clone, Default)]
pub struct Config {
    /// The file it was read from, if any.
    pub path: Option<PathBuf>,
    pub policy: Policy,
    pub plugin_dirs: Vec<PathBuf>,
    /// `[packs.NAME] source`, by pack name (relative folders against the workspace).
    pub packs: BTreeMap<String, String>,
    /// In file order.
    pub gates: Vec<GateConfig>,
    pub run: RunConfig,
    pub tolerances: Option<Tolerances>,
    pub review: ReviewPolicy,
    pub hooks: HooksConfig,
    pub limits: Limits,
    reviewers: toml::Table,
    implementers: toml::Table,
    formatters: toml::Table,
    /// Gates whose table says `cache = false`: never answered from the result cache.
    uncached: Vec<String>,
    /// `[gates.NAME] after = [...]`: gates NAME waits for when they run in the same set.
    after: BTreeMap<String, Vec<String>>,
}

impl Config {
    /// Reads `<workspace>/planexec.toml` if it exists.
    pub fn load(workspace: &Path) -> Result<Config, ConfigError> {
        let path = workspace.join(FILE_NAME);
        if !path.exists() {
            return Ok(Config::default());
        }
        let text = std::fs::read_to_string(&path).map_err(|source| ConfigError::Io {
            path: path.clone(),
            source,
        })?;
        Self::parse(&text, &path, workspace)
    }

    pub fn parse(text: &str, path: &Path, workspace: &Path) -> Result<Config, ConfigError> {
        let invalid = |message: String| ConfigError::Invalid {
            path: path.to_path_buf(),
            message,
        };
        let raw: Raw = toml::from_str(text)
            .map_err(|e| invalid(manifest_error_line(text, &e) + &suggest_section(&e)))?;
        raw.policy.check_network().map_err(invalid)?;
        let mut gates = Vec::new();
        let mut uncached = Vec::new();
        let mut after = BTreeMap::new();
        for (name, v) in raw.gates {
            let toml::Value::Table(mut t) = v else {
                return Err(invalid(format!("[gates.{name}] must be a table")));
            };
            match t.remove("after") {
                None => {}
                Some(toml::Value::Array(a)) if a.iter().all(|v| v.is_str()) => {
                    let names = a.iter().filter_map(|v| v.as_str().map(String::from));
                    after.insert(name.clone(), names.collect());
                }
                Some(_) => {
                    return Err(invalid(format!(
                        "[gates.{name}] field `after` must be a list of gate names"
                    )))
                }
            }
            match t.remove("cache") {
                None | Some(toml::Value::Boolean(true)) => {}
                Some(toml::Value::Boolean(false)) => uncached.push(name.clone()),
                Some(_) => {
                    return Err(invalid(format!(
                        "[gates.{name}] field `cache` must be true or false"
                    )))
                }
            }
            let files = match t.remove("files") {
                None => None,
                Some(toml::Value::Array(a)) if a.iter().all(|v| v.is_str()) => {
                    Some(a.iter().filter_map(|v| v.as_str().map(String::from)).collect())
                }
                Some(toml::Value::String(s)) => Some(vec![s]),
                Some(_) => {
                    return Err(invalid(format!(
                        "[gates.{name}] field `files` must be a glob or a list of globs (e.g. [\"*.py\"])"
                    )))
                }
            };
            let plugin = match t.remove("plugin") {
                None => name.clone(),
                Some(toml::Value::String(s)) => s,
                Some(_) => {
                    return Err(invalid(format!(
                        "[gates.{name}] field `plugin` must be a string"
                    )))
                }
            };
            let flags = crate::gates::flags::FlagEdits::parse(
                &name,
                t.remove("drop_flags"),
                t.remove("replace_flags"),
            )
            .map_err(invalid)?;
            let settings =
                serde_json::to_value(&t).map_err(|e| invalid(format!("[gates.{name}]: {e}")))?;
            gates.push(GateConfig {
                name,
                plugin,
                settings,
                files,
                flags,
            });
        }
        let policy_writes = raw
            .policy
            .plugins
            .values()
            .flat_map(|p| p.writes.iter())
            .chain(raw.policy.writes.iter());
        for w in policy_writes.filter(|w| !Path::new(w).is_absolute()) {
            crate::plugins::check_write_path(w)
                .map_err(|m| invalid(format!("[policy] writes: {m}")))?;
        }
        let run = raw.run.unwrap_or_default();
        if run.max_cycles == 0 {
            return Err(invalid(
                "[run] field `max_cycles` must be at least 1".into(),
            ));
        }
        Ok(Config {
            path: Some(path.to_path_buf()),
            policy: raw.policy,
            plugin_dirs: raw
                .plugins
                .dirs
                .into_iter()
                .map(|d| workspace.join(d))
                .collect(),
            packs: raw.packs.into_iter().map(|(k, v)| (k, v.source)).collect(),
            gates,
            run,
            tolerances: raw.tolerances,
            review: raw.review,
            hooks: raw.hooks,
            limits: raw.limits,
            reviewers: raw.reviewers,
            implementers: raw.implementers,
            formatters: raw.formatters,
            uncached,
            after,
        })
    }

    /// Whether gate `name`'s results may come from the result cache (`[gates.NAME] cache`).
    pub fn caches(&self, name: &str) -> bool {
        !self.uncached.iter().any(|n| n == name)
    }

    /// The gates `name` waits for (`[gates.NAME] after`).
    pub fn after(&self, name: &str) -> &[String] {
        self.after.get(name).map_or(&[], Vec::as_slice)
    }

    /// The gate named `name`: a `[gates.NAME]` entry, or the plugin of that name with no settings.
    pub fn gate(&self, name: &str) -> GateConfig {
        self.gates
            .iter()
            .find(|g| g.name == name)
            .cloned()
            .unwrap_or_else(|| GateConfig {
                name: name.into(),
                plugin: name.into(),
                settings: serde_json::json!({}),
                files: None,
                flags: Default::default(),
            })
    }

    /// Final gates: `[run] final_gates`, or every configured gate in file order.
    pub fn final_gates(&self) -> Vec<GateConfig> {
        match &self.run.final_gates {
            Some(names) => names.iter().map(|n| self.gate(n)).collect(),
            None => self.gates.clone(),
        }
    }

    pub fn reviewer_settings(&self, plugin: &str) -> serde_json::Value {
        table_json(&self.reviewers, plugin)
    }
    pub fn implementer_settings(&self, plugin: &str) -> serde_json::Value {
        table_json(&self.implementers, plugin)
    }
    pub fn formatter_settings(&self, plugin: &str) -> serde_json::Value {
        table_json(&self.formatters, plugin)
    }

    /// Every settings table the file gives a plugin: `[gates.NAME]` (less its
    /// `plugin` key), `[reviewers.NAME]`, `[implementers.NAME]`, `[formatters.NAME]`.
    pub fn plugin_tables(&self) -> Vec<PluginTable> {
        use crate::plugins::Kind;
        let mut out: Vec<PluginTable> = self
            .gates
            .iter()
            .map(|g| PluginTable {
                section: format!("gates.{}", g.name),
                plugin: g.plugin.clone(),
                kind: Kind::Gate,
                keys: json_keys(&g.settings),
            })
            .collect();
        for (table, section, kind) in [
            (&self.reviewers, "reviewers", Kind::Reviewer),
            (&self.implementers, "implementers", Kind::Implementer),
            (&self.formatters, "formatters", Kind::Formatter),
        ] {
            for (name, v) in table {
                out.push(PluginTable {
                    section: format!("{section}.{name}"),
                    plugin: name.clone(),
                    kind,
                    keys: v
                        .as_table()
                        .map(|t| t.keys().cloned().collect())
                        .unwrap_or_default(),
                });
            }
        }
        out
    }
}

/// One plugin's settings table in planexec.toml, for checking its keys.
#[derive(Debug, Clone, PartialEq)]
pub struct PluginTable {
    /// `gates.lint`, `reviewers.task-review`, ...
    pub section: String,
    pub plugin: String,
    pub kind: crate::plugins::Kind,
    pub keys: Vec<String>,
}

fn json_keys(v: &serde_json::Value) -> Vec<String> {
    v.as_object()
        .map(|m| m.keys().cloned().collect())
        .unwrap_or_default()
}

/// A config put together from its trusted sources, and what was left out.
#[derive(Debug, Clone, Default)]
pub struct Assembled {
    pub config: Config,
    /// The repository's planexec.toml, when there is one.
    pub repo_config: Option<PathBuf>,
    /// Whether its policy and program settings counted.
    pub repo_trusted: bool,
    /// Settings of an untrusted planexec.toml that were ignored (`[policy] grant`, ...).
    pub ignored: Vec<String>,
    /// The trusted files that set policy (user config, --policy).
    pub policy_files: Vec<PathBuf>,
}

impl Assembled {
    /// The warning to show when an untrusted planexec.toml had settings ignored.
    pub fn ignored_warning(&self) -> Option<String> {
        let path = self.repo_config.as_ref()?;
        if self.ignored.is_empty() {
            return None;
        }
        Some(format!(
            "{} is not trusted, so these settings were ignored: {}\n  \
             review the file, then run `planexec trust` (it records its sha256); \
             in CI pass --trust or PLANEXEC_TRUST=1 only for a config you control, never a pull request's own",
            path.display(),
            self.ignored.join(", ")
        ))
    }
}

/// Reads one TOML file as a table, validated as a planexec config.
fn read_table(path: &Path, root: &Path) -> Result<(String, toml::Table), ConfigError> {
    let text = crate::input::read_text(path, root, crate::input::MAX_TOML)?;
    Config::parse(&text, path, root)?;
    let t = toml::from_str(&text).map_err(|e| ConfigError::Invalid {
        path: path.to_path_buf(),
        message: manifest_error_line(&text, &e),
    })?;
    Ok((text, t))
}

/// `[plugins] dirs` made absolute against `base`.
fn absolute_dirs(t: &mut toml::Table, base: &Path) {
    let Some(toml::Value::Array(dirs)) = t
        .get_mut("plugins")
        .and_then(|p| p.as_table_mut())
        .and_then(|p| p.get_mut("dirs"))
    else {
        return;
    };
    for d in dirs.iter_mut() {
        if let Some(s) = d.as_str() {
            *d = toml::Value::String(base.join(s).to_string_lossy().into_owned());
        }
    }
}

/// `[packs.*] source` folders made absolute against `base` (URLs stay as they are).
fn absolute_pack_paths(t: &mut toml::Table, base: &Path) {
    let Some(toml::Value::Table(packs)) = t.get_mut("packs") else {
        return;
    };
    for (_, v) in packs.iter_mut() {
        let Some(src) = v.get_mut("source") else {
            continue;
        };
        if let Some(s) = src.as_str() {
            if matches!(
                crate::packs::PackSource::parse(s, base),
                Ok(crate::packs::PackSource::Path(_))
            ) {
                *src = toml::Value::String(base.join(s).to_string_lossy().into_owned());
            }
        }
    }
}

/// A user config or `--policy` file: only `[policy]`, `[plugins]` and `[limits]`.
fn policy_table(path: &Path) -> Result<toml::Table, ConfigError> {
    let base = path.parent().unwrap_or(Path::new("/"));
    let (_, mut t) = read_table(path, base)?;
    if let Some(k) = t
        .keys()
        .find(|k| !matches!(k.as_str(), "policy" | "plugins" | "limits" | "packs"))
    {
        return Err(ConfigError::Invalid {
            path: path.to_path_buf(),
            message: format!("[{k}] does not belong here: a policy file has only [policy], [plugins], [packs] and [limits]"),
        });
    }
    absolute_dirs(&mut t, base);
    absolute_pack_paths(&mut t, base);
    Ok(t)
}

impl Config {
    /// The config of `workspace` from its trusted sources: the user's config,
    /// `--policy`, and the repository's planexec.toml (all of it when trusted,
    /// otherwise only what does not change which programs run; see trust.rs).
    pub fn assemble(
        workspace: &Path,
        sources: &crate::trust::Sources,
    ) -> Result<Assembled, ConfigError> {
        let mut out = Assembled::default();
        let mut trusted = toml::Table::new();
        let user = sources
            .user_dir
            .as_ref()
            .map(|d| d.join(crate::trust::USER_CONFIG));
        for p in user
            .iter()
            .filter(|p| p.exists())
            .chain(&sources.policy_file)
        {
            crate::trust::merge(&mut trusted, policy_table(p)?);
            out.policy_files.push(p.clone());
        }
        let path = workspace.join(FILE_NAME);
        let mut repo = toml::Table::new();
        let mut untrusted = None;
        if path.symlink_metadata().is_ok() {
            let (text, mut t) = read_table(&path, workspace)?;
            absolute_dirs(&mut t, workspace);
            let store = sources
                .user_dir
                .as_ref()
                .map(|d| crate::trust::Store::new(d));
            out.repo_trusted = sources.trust_repo
                || store.is_some_and(|s| {
                    s.trusted_sha(&path)
                        == Some(crate::trust::digest(&crate::trust::trusted_content(
                            workspace, &text,
                        )))
                });
            if !out.repo_trusted {
                untrusted = Some(UntrustedPolicy {
                    path: path.clone(),
                    programs: UntrustedPolicy::programs_of(&t),
                    changed: sources
                        .user_dir
                        .as_ref()
                        .is_some_and(|d| crate::trust::Store::new(d).trusted_sha(&path).is_some()),
                });
                out.ignored = crate::trust::strip_untrusted(&mut t);
            }
            out.repo_config = Some(path.clone());
            repo = t;
        }
        for s in ["policy", "plugins", "limits"] {
            if let Some(toml::Value::Table(sec)) = repo.remove(s) {
                let mut one = toml::Table::new();
                one.insert(s.into(), toml::Value::Table(sec));
                crate::trust::merge(&mut trusted, one);
            }
        }
        crate::trust::merge(&mut repo, trusted);
        let text = toml::to_string(&repo).map_err(|e| ConfigError::Invalid {
            path: path.clone(),
            message: e.to_string(),
        })?;
        let mut config = Self::parse(&text, &path, workspace)?;
        config.path = out.repo_config.clone();
        config.policy.untrusted = untrusted.filter(|u| !u.programs.is_empty());
        out.config = config;
        Ok(out)
    }

    /// The sandbox caps these limits allow.
    pub fn caps(&self) -> Result<crate::sandbox::Caps, ConfigError> {
        let mut caps = crate::sandbox::Caps::default();
        let invalid = |key: &str, e: String| ConfigError::Invalid {
            path: self
                .path
                .clone()
                .unwrap_or_else(|| PathBuf::from(FILE_NAME)),
            message: format!("[limits] {key}: {e}"),
        };
        if let Some(t) = &self.limits.max_timeout {
            caps.max_timeout = crate::plugins::parse_duration(t)
                .map_err(|e| invalid("max_timeout", e.to_string()))?;
        }
        if let Some(t) = &self.limits.max_exec_time {
            caps.exec_budget = crate::plugins::parse_duration(t)
                .map_err(|e| invalid("max_exec_time", e.to_string()))?;
        }
        Ok(caps)
    }
}

fn table_json(t: &toml::Table, key: &str) -> serde_json::Value {
    t.get(key)
        .and_then(|v| serde_json::to_value(v).ok())
        .unwrap_or_else(|| serde_json::json!({}))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_gates_in_order_with_settings() {
        let text = r#"
[policy]
grant = ["python3"]
[gates.tests]
plugin = "pytest"
args = ["-q"]
[gates.black]
[run]
implementer = "patch"
"#;
        let c = Config::parse(text, Path::new("planexec.toml"), Path::new("/w")).unwrap();
        assert_eq!(c.gates[0].name, "tests");
        assert_eq!(c.gates[0].plugin, "pytest");
        assert_eq!(c.gates[0].settings, serde_json::json!({"args": ["-q"]}));
        assert_eq!(c.final_gates().len(), 2);
        assert_eq!(c.run.implementer, "patch");
        assert_eq!(c.run.max_cycles, 3);
        assert_eq!(c.policy.granted_to("x"), [Grant::parse("python3")]);
    }

    #[test]
    fn git_hooks_run_boxed_or_not_at_all_never_natively() {
        let parse = |v: &str| {
            Config::parse(
                &format!("[run]\ngit_hooks = {v}\n"),
                Path::new("planexec.toml"),
                Path::new("/w"),
            )
            .map(|c| c.run.git_hooks)
        };
        assert_eq!(parse("\"boxed\"").unwrap(), GitHooks::Boxed);
        assert_eq!(parse("true").unwrap(), GitHooks::Boxed);
        assert_eq!(parse("\"off\"").unwrap(), GitHooks::Off);
        assert_eq!(parse("false").unwrap(), GitHooks::Off);
        let e = parse("\"native\"").unwrap_err().to_string();
        assert!(e.contains("never run outside the box"), "{e}");
    }

    #[test]
    fn unknown_key_is_an_error_with_its_line() {
        let e = Config::parse(
            "[run]\nimplementor = \"x\"\n",
            Path::new("planexec.toml"),
            Path::new("/w"),
        )
        .unwrap_err()
        .to_string();
        assert!(
            e.contains("planexec.toml") && e.contains("line 2") && e.contains("implementor"),
            "{e}"
        );
    }
}
