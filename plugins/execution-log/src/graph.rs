//! The task graph at the top of Task Execution: a fenced `mermaid` flowchart (GitHub
//! renders it), a subgraph per wave, each task coloured by its final status.

use planexec_pdk::record::{RunRecord, TaskStatus};

/// The fenced block, or nothing for a plan without tasks.
pub fn render(o: &mut String, rec: &RunRecord) {
    if rec.tasks.is_empty() {
        return;
    }
    o.push_str("```mermaid\nflowchart TD\n");
    let mut waves: Vec<u32> = rec.tasks.iter().map(|t| t.wave.unwrap_or(1)).collect();
    waves.sort_unstable();
    waves.dedup();
    for w in waves {
        o.push_str(&format!("  subgraph w{w} [\"Wave {w}\"]\n"));
        for (i, t) in rec.tasks.iter().enumerate() {
            if t.wave.unwrap_or(1) == w {
                let label = text(&format!("{}: {}", t.id, t.title));
                o.push_str(&format!("    t{i}[\"{label}\"]:::{}\n", class(t.status)));
            }
        }
        o.push_str("  end\n");
    }
    for (to, t) in rec.tasks.iter().enumerate() {
        for d in &t.dependencies {
            if let Some(from) = rec.tasks.iter().position(|x| &x.id == d) {
                o.push_str(&format!("  t{from} --> t{to}\n"));
            }
        }
    }
    o.push_str(
        "  classDef done fill:#d4edda,stroke:#2e7d32\n  classDef blocked fill:#f8d7da,stroke:#b71c1c\n\
         \x20 classDef active fill:#fff3cd,stroke:#b8860b\n  classDef pending fill:#eeeeee,stroke:#777777\n```\n\n",
    );
}

fn class(s: TaskStatus) -> &'static str {
    match s {
        TaskStatus::Done => "done",
        TaskStatus::Blocked | TaskStatus::Skipped => "blocked",
        TaskStatus::InProgress | TaskStatus::InReview | TaskStatus::Rework => "active",
        TaskStatus::Pending | TaskStatus::Ready => "pending",
    }
}

/// Text safe inside a quoted Mermaid label (the same rule as `planexec_plan::graph`,
/// which the wasm side cannot link): markup, quotes, `#` and brackets as `#NN;` codes.
pub fn text(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '"' | '<' | '>' | '&' | '#' | '`' | '[' | ']' | '{' | '}' | '|' | '\\' => {
                out.push_str(&format!("#{};", c as u32))
            }
            c if c.is_control() => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tasks_by_wave_coloured_by_status_and_escaped() {
        let mut rec = reportkit::fixtures::successful_run();
        rec.tasks[0].title = "Token <script>\"x\"</script>".into();
        let mut o = String::new();
        render(&mut o, &rec);
        assert!(
            o.starts_with("```mermaid\nflowchart TD\n  subgraph w1 [\"Wave 1\"]\n"),
            "{o}"
        );
        assert!(o.contains(":::done") && o.ends_with("```\n\n"), "{o}");
        assert!(
            !o.contains("<script>") && o.contains("#60;script#62;#34;x#34;"),
            "{o}"
        );
    }
}
