//! Run-wide budgets (cost, tokens, minutes): the limits in force (plan, planexec.toml,
//! `--resume --budget`), what the run has spent, and the breach that escalates it.

use crate::config::Config;
use planexec_plan::Plan;
use planexec_record::RunRecord;
use serde::{Deserialize, Serialize};

/// `--budget cost=10,tokens=500k,minutes=180`: limits raised (or set) on resume,
/// saved with the run so later resumes keep them.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Raised {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cost_usd: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tokens: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub minutes: Option<u64>,
}

/// A `--budget` value that cannot be read.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum BudgetError {
    #[error("--budget `{0}`: expected KEY=VALUE pairs separated by commas (cost=10,tokens=500k,minutes=180)")]
    Shape(String),
    #[error("--budget `{0}`: unknown key; use cost (US dollars), tokens (200k, 2m) or minutes")]
    Key(String),
    #[error("--budget `{0}`: `{1}` is not a non-negative number")]
    Value(String, String),
}

impl std::str::FromStr for Raised {
    type Err = BudgetError;
    fn from_str(s: &str) -> Result<Raised, BudgetError> {
        let mut r = Raised::default();
        for pair in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (k, v) = pair
                .split_once('=')
                .ok_or_else(|| BudgetError::Shape(s.into()))?;
            let bad = || BudgetError::Value(s.into(), v.into());
            let num = |v: &str| -> Result<f64, BudgetError> {
                let (n, mul) = match v.to_ascii_lowercase() {
                    x if x.ends_with('k') => (x[..x.len() - 1].to_string(), 1e3),
                    x if x.ends_with('m') => (x[..x.len() - 1].to_string(), 1e6),
                    x => (x, 1.0),
                };
                let f: f64 = n.trim_start_matches('$').parse().map_err(|_| bad())?;
                (f.is_finite() && f >= 0.0)
                    .then_some(f * mul)
                    .ok_or_else(bad)
            };
            match k.trim() {
                "cost" | "cost_usd" | "max_cost_usd" => r.cost_usd = Some(num(v)?),
                "tokens" | "max_tokens" => r.tokens = Some(num(v)?.round() as u64),
                "minutes" | "max_run_minutes" => r.minutes = Some(num(v)?.round() as u64),
                other => return Err(BudgetError::Key(other.into())),
            }
        }
        if r == Raised::default() {
            return Err(BudgetError::Shape(s.into()));
        }
        Ok(r)
    }
}

impl Raised {
    /// `other`'s limits over these (a later `--budget` wins key by key).
    pub fn merged(&self, other: &Raised) -> Raised {
        Raised {
            cost_usd: other.cost_usd.or(self.cost_usd),
            tokens: other.tokens.or(self.tokens),
            minutes: other.minutes.or(self.minutes),
        }
    }
}

/// What the run has spent so far.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Spent {
    pub cost_usd: f64,
    pub tokens: u64,
    pub minutes: u64,
}

/// Every implementer's and reviewer's reported cost and tokens, and the run's working time.
pub fn spent(record: &RunRecord, seconds: u64) -> Spent {
    let usage = record.tasks.iter().flat_map(|t| &t.cycles).flat_map(|c| {
        let implementer = c.implementer.as_ref().and_then(|i| i.usage.as_ref());
        implementer
            .into_iter()
            .chain(c.reviews.iter().filter_map(|r| r.usage.as_ref()))
    });
    let mut s = Spent {
        minutes: seconds / 60,
        ..Default::default()
    };
    for u in usage {
        s.cost_usd += u.cost_usd.unwrap_or(0.0);
        s.tokens += u.input_tokens.unwrap_or(0) + u.output_tokens.unwrap_or(0);
    }
    s
}

/// The budgets in force, each with where it was set.
#[derive(Debug, Clone, Default)]
pub struct Budget {
    cost_usd: Option<(f64, String)>,
    tokens: Option<(u64, String)>,
    minutes: Option<(u64, String)>,
}

impl Budget {
    /// `--budget` over the plan's Tolerances over planexec.toml's `[tolerances]`.
    pub fn new(plan: &Plan, config: &Config, raised: &Raised) -> Budget {
        let t = &plan.tolerances;
        let c = config.tolerances.clone().unwrap_or_default();
        let plan_q =
            |s: &Option<String>| format!("plan Tolerances: \"{}\"", s.as_deref().unwrap_or(""));
        let toml_q = |k: &str, v: String| format!("planexec.toml [tolerances] {k} = {v}");
        let flag_q = |k: &str, v: String| format!("--budget {k}={v}");
        let pick = |flag: Option<(f64, String)>,
                    plan: Option<(f64, String)>,
                    toml: Option<(f64, String)>| { flag.or(plan).or(toml) };
        let cost = pick(
            raised.cost_usd.map(|v| (v, flag_q("cost", v.to_string()))),
            t.max_cost_cents
                .map(|v| (v as f64 / 100.0, plan_q(&t.max_cost_source))),
            c.max_cost_usd
                .map(|v| (v, toml_q("max_cost_usd", v.to_string()))),
        );
        let int = |flag: Option<u64>,
                   k: &str,
                   plan: Option<u64>,
                   src: &Option<String>,
                   tk: &str,
                   toml: Option<u64>| {
            flag.map(|v| (v, flag_q(k, v.to_string())))
                .or(plan.map(|v| (v, plan_q(src))))
                .or(toml.map(|v| (v, toml_q(tk, v.to_string()))))
        };
        Budget {
            cost_usd: cost,
            tokens: int(
                raised.tokens,
                "tokens",
                t.max_tokens,
                &t.max_tokens_source,
                "max_tokens",
                c.max_tokens,
            ),
            minutes: int(
                raised.minutes,
                "minutes",
                t.max_run_minutes,
                &t.max_run_minutes_source,
                "max_run_minutes",
                c.max_run_minutes,
            ),
        }
    }

    /// The first budget `spent` reached, quoted with where it was set.
    pub fn breach(&self, s: &Spent) -> Option<String> {
        if let Some((max, q)) = &self.cost_usd {
            if s.cost_usd >= *max {
                return Some(format!(
                    "run budget spent: the implementers and reviewers reported ${:.4}, at or over ${max:.2} ({q})",
                    s.cost_usd
                ));
            }
        }
        if let Some((max, q)) = &self.tokens {
            if s.tokens >= *max {
                return Some(format!(
                    "run budget spent: the implementers and reviewers reported {} tokens, at or over {max} ({q})",
                    s.tokens
                ));
            }
        }
        if let Some((max, q)) = &self.minutes {
            if s.minutes >= *max {
                return Some(format!(
                    "run budget spent: the run has worked {} minutes, at or over {max} ({q})",
                    s.minutes
                ));
            }
        }
        None
    }
}

/// `--resume --budget`: the raised limits are saved with the run, said on the
/// terminal and recorded as an issue (the log's Issues & Resolutions).
pub fn raise(
    st: &mut super::state::State,
    given: Option<&Raised>,
    reporter: &mut crate::report::Reporter,
) {
    let Some(given) = given else {
        return;
    };
    st.budget = st.budget.merged(given);
    let said = [
        given.cost_usd.map(|v| format!("cost ${v:.2}")),
        given.tokens.map(|v| format!("{v} tokens")),
        given.minutes.map(|v| format!("{v} minutes")),
    ]
    .into_iter()
    .flatten()
    .collect::<Vec<_>>()
    .join(", ");
    let text = format!("run budget raised on resume: {said}");
    reporter.emit(crate::report::Event::Message {
        level: crate::report::Level::Info,
        text: text.clone(),
    });
    st.record.issues.push(planexec_record::Issue {
        task: None,
        issue: text,
        resolution: "continued deliberately with --resume --budget".into(),
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_flag_beats_the_plan_which_beats_planexec_toml() {
        let mut plan =
            planexec_plan::parse_str("plan.md", "# Plan\n\n## Tasks\n\n### T001: One\n", None)
                .unwrap();
        plan.tolerances.max_cost_cents = Some(500);
        plan.tolerances.max_cost_source = Some("Budget: $5.".into());
        let mut config = Config::default();
        config.tolerances = Some(crate::config::Tolerances {
            max_cost_usd: Some(1.0),
            max_tokens: Some(1000),
            ..Default::default()
        });
        let spent = Spent {
            cost_usd: 2.0,
            tokens: 999,
            minutes: 0,
        };
        let b = Budget::new(&plan, &config, &Raised::default());
        assert_eq!(
            b.breach(&spent),
            None,
            "the plan's $5 is in force, not the toml's $1"
        );
        let over = Spent {
            tokens: 1000,
            ..spent
        };
        let why = b.breach(&over).unwrap();
        assert!(
            why.contains("1000 tokens") && why.contains("max_tokens = 1000"),
            "{why}"
        );
        let raised = Raised {
            cost_usd: Some(1.5),
            ..Default::default()
        };
        let why = Budget::new(&plan, &config, &raised).breach(&spent).unwrap();
        assert!(why.contains("--budget cost=1.5"), "{why}");
    }

    #[test]
    fn budget_flag_syntax() {
        let r: Raised = "cost=10, tokens=500k,minutes=90".parse().unwrap();
        assert_eq!(
            r,
            Raised {
                cost_usd: Some(10.0),
                tokens: Some(500_000),
                minutes: Some(90)
            }
        );
        assert_eq!("cost=$2.5".parse::<Raised>().unwrap().cost_usd, Some(2.5));
        assert!(matches!(
            "dollars=3".parse::<Raised>(),
            Err(BudgetError::Key(_))
        ));
        assert!(matches!(
            "cost".parse::<Raised>(),
            Err(BudgetError::Shape(_))
        ));
        assert!(matches!(
            "cost=-1".parse::<Raised>(),
            Err(BudgetError::Value(..))
        ));
        assert!(matches!("".parse::<Raised>(), Err(BudgetError::Shape(_))));
    }
}
