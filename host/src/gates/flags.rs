//! A gate's default flags dropped or replaced by config (`drop_flags`, `replace_flags` in
//! `[gates.NAME]`): applied by the host to the argument list of every program the gate runs.

use std::collections::BTreeMap;

/// What to drop and what to replace in a gate's programs' arguments. Each entry is a run of
/// consecutive arguments (`"-o cache_dir={cache}/pytest"` is two); arguments that name the
/// gate's own report file (`{scratch}`) are never touched: the gate reads its result there.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FlagEdits {
    drop: Vec<Vec<String>>,
    replace: Vec<(Vec<String>, Vec<String>)>,
}

/// What applying the edits did to one program's arguments.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Applied {
    pub args: Vec<String>,
    /// Edits that touched the gate's report file and were left out.
    pub refused: Vec<String>,
}

impl FlagEdits {
    /// Reads `drop_flags = ["--tb=short"]` and `replace_flags = { "--tb=short" = "--tb=long" }`.
    pub fn parse(
        gate: &str,
        drop: Option<toml::Value>,
        replace: Option<toml::Value>,
    ) -> Result<FlagEdits, String> {
        let bad = |key: &str, want: &str| format!("[gates.{gate}] field `{key}` must be {want}");
        let mut edits = FlagEdits::default();
        match drop {
            None => {}
            Some(toml::Value::Array(a)) => {
                for v in a {
                    let s = v
                        .as_str()
                        .ok_or_else(|| bad("drop_flags", "a list of strings"))?;
                    edits
                        .drop
                        .push(words(s).ok_or_else(|| bad("drop_flags", "non-empty strings"))?);
                }
            }
            Some(_) => {
                return Err(bad(
                    "drop_flags",
                    "a list of strings (e.g. [\"--tb=short\"])",
                ))
            }
        }
        match replace {
            None => {}
            Some(toml::Value::Table(t)) => {
                let want = "a table of strings (e.g. { \"--tb=short\" = \"--tb=long\" })";
                for (from, to) in t {
                    let to = to.as_str().ok_or_else(|| bad("replace_flags", want))?;
                    let from = words(&from).ok_or_else(|| bad("replace_flags", want))?;
                    edits
                        .replace
                        .push((from, to.split_whitespace().map(String::from).collect()));
                }
            }
            Some(_) => {
                return Err(bad(
                    "replace_flags",
                    "a table (e.g. { \"--tb=short\" = \"--tb=long\" })",
                ))
            }
        }
        Ok(edits)
    }

    pub fn is_empty(&self) -> bool {
        self.drop.is_empty() && self.replace.is_empty()
    }

    /// For the result-cache key and the record: the edits as data.
    pub fn to_json(&self) -> serde_json::Value {
        let replace: BTreeMap<String, String> = self
            .replace
            .iter()
            .map(|(f, t)| (f.join(" "), t.join(" ")))
            .collect();
        let drop: Vec<String> = self.drop.iter().map(|d| d.join(" ")).collect();
        serde_json::json!({ "drop": drop, "replace": replace })
    }

    /// `args` with every run of arguments equal to an edit's dropped or replaced.
    pub fn apply(&self, args: &[String]) -> Applied {
        let mut out = Applied {
            args: Vec::with_capacity(args.len()),
            refused: Vec::new(),
        };
        let mut i = 0;
        'next: while i < args.len() {
            let edits = self
                .drop
                .iter()
                .map(|d| (d, None))
                .chain(self.replace.iter().map(|(f, t)| (f, Some(t))));
            for (from, to) in edits {
                if !args[i..].starts_with(from) {
                    continue;
                }
                if from.iter().any(|a| a.contains("{scratch}")) {
                    out.refused.push(from.join(" "));
                    continue;
                }
                out.args.extend(to.into_iter().flatten().cloned());
                i += from.len();
                continue 'next;
            }
            out.args.push(args[i].clone());
            i += 1;
        }
        out
    }
}

fn words(s: &str) -> Option<Vec<String>> {
    let w: Vec<String> = s.split_whitespace().map(String::from).collect();
    (!w.is_empty()).then_some(w)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(s: &str) -> Vec<String> {
        s.split_whitespace().map(String::from).collect()
    }

    fn edits(toml_text: &str) -> Result<FlagEdits, String> {
        let mut t: toml::Table = toml_text.parse().unwrap();
        FlagEdits::parse("pytest", t.remove("drop_flags"), t.remove("replace_flags"))
    }

    #[test]
    fn drops_and_replaces_runs_of_arguments_and_keeps_the_report_file() {
        let e = edits(
            "drop_flags = [\"-o cache_dir={cache}/pytest\", \"--junitxml={scratch}/r.xml\"]\n\
             replace_flags = { \"--tb=short\" = \"--tb=long -rA\" }",
        )
        .unwrap();
        let a = e.apply(&args(
            "-m pytest --junitxml={scratch}/r.xml -o junit_family=xunit1 -o cache_dir={cache}/pytest --tb=short tests",
        ));
        assert_eq!(
            a.args,
            args("-m pytest --junitxml={scratch}/r.xml -o junit_family=xunit1 --tb=long -rA tests")
        );
        assert_eq!(a.refused, ["--junitxml={scratch}/r.xml"]);
    }

    #[test]
    fn bad_shapes_are_errors_that_name_the_gate_and_the_key() {
        let e = edits("drop_flags = \"--tb=short\"").unwrap_err();
        assert!(e.contains("[gates.pytest] field `drop_flags`"), "{e}");
        let e = edits("replace_flags = { \"-x\" = 1 }").unwrap_err();
        assert!(e.contains("`replace_flags`"), "{e}");
        assert!(edits("drop_flags = [\" \"]").is_err());
        assert!(edits("").unwrap().is_empty());
    }
}
