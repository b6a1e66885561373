//! `--report html=PATH` and `planexec report html`: one self-contained HTML page of a
//! run (inline CSS, SVG and a little JS; nothing fetched), every record string escaped.

use super::spans::{timeline, Span, SpanKind, Timeline};
use crate::text::html as e;
use planexec_record::{Cycle, GateRun, Outcome, RunRecord, TaskRecord};
use std::fmt::Write;

const CSS: &str = include_str!("html.css");
const JS: &str = include_str!("html.js");

/// The whole page.
pub fn render(r: &RunRecord) -> String {
    let tl = timeline(r);
    let mut h = String::new();
    let title = e(&format!("planexec run: {}", r.plan.title));
    let _ = write!(
        h,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; \
         style-src 'unsafe-inline'; script-src 'sha256-{hash}'; img-src data:\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{title}</title><style>{CSS}</style></head><body>\n",
        hash = script_hash()
    );
    header(&mut h, r, &tl);
    graph(&mut h, r);
    timeline_svg(&mut h, r, &tl);
    failures(&mut h, r);
    tasks(&mut h, r);
    issues(&mut h, r);
    let _ = write!(h, "<script>{JS}</script>\n</body></html>\n");
    h
}

/// The CSP hash of the page's one script: a script anyone else slipped in would not run.
fn script_hash() -> String {
    use base64::Engine;
    use sha2::Digest;
    base64::engine::general_purpose::STANDARD.encode(sha2::Sha256::digest(JS.as_bytes()))
}

fn header(h: &mut String, r: &RunRecord, tl: &Timeline) {
    let secs = (tl.end - tl.start) as f64 / 1000.0;
    let _ = writeln!(
        h,
        "<header><h1 id=\"plan-title\">{}</h1><p class=\"meta\">run <code>{}</code> · \
         <span class=\"status s-{}\">{}</span> · started {} · {secs:.1} s · \
         {} tasks, <span id=\"cycle-count\"></span> · plan <code>{}</code></p></header>",
        e(&r.plan.title),
        e(&r.run_id),
        r.status.as_str(),
        r.status.as_str(),
        e(&r.started_at),
        r.tasks.len(),
        e(&r.plan.path),
    );
}

const NODE_W: i64 = 170;
const NODE_H: i64 = 38;

/// The plan's graph by wave (columns), each task coloured by its status.
fn graph(h: &mut String, r: &RunRecord) {
    if r.tasks.is_empty() {
        return;
    }
    let place = node_places(r);
    let waves = place.iter().map(|p| p.0).max().unwrap_or(0) + 1;
    let rows = place.iter().map(|p| p.1).max().unwrap_or(0) + 1;
    let (w, ht) = (waves * (NODE_W + 50) + 20, rows * (NODE_H + 16) + 40);
    let _ = writeln!(
        h,
        "<section><h2>Plan graph</h2><svg class=\"graph\" viewBox=\"0 0 {w} {ht}\" \
         width=\"{w}\" role=\"img\" aria-label=\"task graph\">"
    );
    for wave in 0..waves {
        let x = 20 + wave * (NODE_W + 50);
        let _ = write!(
            h,
            "<text class=\"wave\" x=\"{x}\" y=\"16\">Wave {}</text>",
            wave + 1
        );
    }
    let xy = |i: usize| {
        (
            20 + place[i].0 * (NODE_W + 50),
            28 + place[i].1 * (NODE_H + 16),
        )
    };
    for (to, t) in r.tasks.iter().enumerate() {
        for d in &t.dependencies {
            if let Some(from) = r.tasks.iter().position(|x| &x.id == d) {
                let ((x1, y1), (x2, y2)) = (xy(from), xy(to));
                let _ = write!(
                    h,
                    "<line class=\"edge\" x1=\"{}\" y1=\"{}\" x2=\"{x2}\" y2=\"{}\"/>",
                    x1 + NODE_W,
                    y1 + NODE_H / 2,
                    y2 + NODE_H / 2
                );
            }
        }
    }
    for (i, t) in r.tasks.iter().enumerate() {
        let (x, y) = xy(i);
        let _ = writeln!(
            h,
            "<a href=\"#task-{i}\"><g class=\"node s-{st}\" data-task=\"{id}\">\
             <rect x=\"{x}\" y=\"{y}\" width=\"{NODE_W}\" height=\"{NODE_H}\" rx=\"5\"/>\
             <text x=\"{}\" y=\"{}\">{id}</text><text class=\"small\" x=\"{}\" y=\"{}\">{}</text>\
             <title>{id}: {} ({st})</title></g></a>",
            x + 6,
            y + 15,
            x + 6,
            y + 30,
            e(&clip(&t.title, 26)),
            e(&t.title),
            st = t.status.as_str(),
            id = e(&t.id),
        );
    }
    h.push_str("</svg></section>\n");
}

/// Each task's (wave column, row): its recorded wave, else after its dependencies.
fn node_places(r: &RunRecord) -> Vec<(i64, i64)> {
    let mut col: Vec<i64> = Vec::with_capacity(r.tasks.len());
    for t in &r.tasks {
        let after = t
            .dependencies
            .iter()
            .filter_map(|d| r.tasks.iter().position(|x| &x.id == d))
            .filter(|&j| j < col.len())
            .map(|j| col[j] + 1)
            .max()
            .unwrap_or(0);
        col.push(t.wave.map(|w| i64::from(w.max(1)) - 1).unwrap_or(after));
    }
    let mut seen = std::collections::HashMap::new();
    col.iter()
        .map(|&c| {
            let row = seen.entry(c).or_insert(0i64);
            *row += 1;
            (c, *row - 1)
        })
        .collect()
}

fn clip(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        return s.to_string();
    }
    let mut out: String = s.chars().take(n - 1).collect();
    out.push('…');
    out
}

const LABEL_W: i64 = 130;
const TL_W: i64 = 1000;
const ROW_H: i64 = 24;

/// One lane per task running at once and per final gate; a bar per cycle with its steps.
fn timeline_svg(h: &mut String, r: &RunRecord, tl: &Timeline) {
    let rows: usize = tl.lanes.iter().map(|l| l.rows).sum();
    if rows == 0 {
        return;
    }
    let height = rows as i64 * ROW_H + 30;
    let _ = writeln!(
        h,
        "<section><h2>Timeline</h2><svg class=\"timeline\" viewBox=\"0 0 {TL_W} {height}\" \
         role=\"img\" aria-label=\"timeline\">"
    );
    axis(h, tl, height);
    let mut row = 0i64;
    for lane in &tl.lanes {
        let y = 20 + row * ROW_H;
        let _ = write!(
            h,
            "<text class=\"lane\" x=\"4\" y=\"{}\">{}</text>",
            y + 16,
            e(&lane.name)
        );
        for s in &lane.spans {
            bar(h, r, tl, s, y + s.row as i64 * ROW_H);
        }
        row += lane.rows as i64;
        let _ = write!(
            h,
            "<line class=\"lane-sep\" x1=\"0\" x2=\"{TL_W}\" y1=\"{0}\" y2=\"{0}\"/>",
            20 + row * ROW_H
        );
    }
    h.push_str("</svg><p class=\"legend\"><span class=\"k implementer\">implementer</span> \
        <span class=\"k gate\">gate</span> <span class=\"k review\">review</span> \
        <span class=\"k commit\">commit</span> <span class=\"k program\">program</span> (a boxed \
        program a gate ran, under its gate) · bars behind them are cycles, coloured by outcome</p></section>\n");
}

fn axis(h: &mut String, tl: &Timeline, height: i64) {
    let total = (tl.end - tl.start).max(1) as f64 / 1000.0;
    for k in 0..=5 {
        let x = LABEL_W + (TL_W - LABEL_W - 10) * k / 5;
        let _ = write!(
            h,
            "<line class=\"tick\" x1=\"{x}\" x2=\"{x}\" y1=\"14\" y2=\"{height}\"/>\
             <text class=\"small\" x=\"{x}\" y=\"10\" text-anchor=\"{}\">{:.1} s</text>",
            if k == 5 { "end" } else { "middle" },
            total * k as f64 / 5.0
        );
    }
}

fn x_of(tl: &Timeline, t: i64) -> f64 {
    let span = (tl.end - tl.start).max(1) as f64;
    LABEL_W as f64 + (TL_W - LABEL_W - 10) as f64 * (t - tl.start) as f64 / span
}

fn bar(h: &mut String, r: &RunRecord, tl: &Timeline, s: &Span, y: i64) {
    let (x, w) = (
        x_of(tl, s.start),
        (x_of(tl, s.end) - x_of(tl, s.start)).max(2.0),
    );
    let (class, dy, bh) = match s.kind {
        SpanKind::Task => return,
        SpanKind::Cycle => ("cycle", 2, ROW_H - 4),
        SpanKind::Step(_) if s.task.is_none() => ("step gate", 4, ROW_H - 8),
        SpanKind::Step(_) => (s.kind.name(), 7, ROW_H - 14),
        SpanKind::Program => ("program", ROW_H - 9, 3),
    };
    let step = if matches!(s.kind, SpanKind::Step(_)) {
        " step"
    } else {
        ""
    };
    let task = s.task.map(|t| r.tasks[t].id.as_str()).unwrap_or("");
    let secs = (s.end - s.start) as f64 / 1000.0;
    let _ = writeln!(
        h,
        "<rect class=\"bar {class}{step} s-{st}\" data-task=\"{}\" data-cycle=\"{}\" x=\"{x:.1}\" \
         y=\"{}\" width=\"{w:.1}\" height=\"{bh}\"><title>{} — {} {} ({secs:.2} s)</title></rect>",
        e(task),
        s.cycle.unwrap_or(0),
        y + dy,
        e(&s.name),
        s.kind.name(),
        e(&s.status),
        st = e(&s.status),
    );
}

/// Every failing test and finding of the gates whose verdict stands, and of the final gates.
fn failures(h: &mut String, r: &RunRecord) {
    let mut rows = String::new();
    for (i, t) in r.tasks.iter().enumerate() {
        for c in &t.cycles {
            for g in &c.gates {
                failure_rows(&mut rows, Some((i, t, c)), g);
            }
        }
    }
    for g in &r.final_gates {
        failure_rows(&mut rows, None, g);
    }
    if rows.is_empty() {
        return;
    }
    let _ = writeln!(
        h,
        "<section><h2>Failures</h2><table class=\"failures\"><thead><tr><th>Where</th>\
         <th>Gate</th><th>Test or rule</th><th>Message</th><th>Location</th></tr></thead>\
         <tbody>{rows}</tbody></table></section>"
    );
}

fn failure_rows(rows: &mut String, at: Option<(usize, &TaskRecord, &Cycle)>, g: &GateRun) {
    if !matches!(g.report.outcome, Outcome::Failed | Outcome::Errored) {
        return;
    }
    let place = match at {
        Some((i, t, c)) => format!("<a href=\"#task-{i}\">{}</a> cycle {}", e(&t.id), c.number),
        None => "final gates".into(),
    };
    let mut row = |name: &str, msg: &str, loc: String| {
        let _ = write!(
            rows,
            "<tr><td>{place}</td><td>{}</td><td class=\"test-name\"><code>{}</code></td>\
             <td><pre>{}</pre></td><td><code>{}</code></td></tr>",
            e(&g.name),
            e(name),
            e(msg),
            e(&loc)
        );
    };
    let loc = |p: &Option<String>, l: Option<u32>| match (p, l) {
        (Some(p), Some(l)) => format!("{p}:{l}"),
        (Some(p), None) => p.clone(),
        _ => String::new(),
    };
    for f in &g.report.failures {
        row(&f.name, &f.message, loc(&f.path, f.line));
    }
    for f in &g.report.findings {
        row(&f.rule, &f.message, loc(&f.path, f.line));
    }
    if g.report.failures.is_empty() && g.report.findings.is_empty() {
        row("", &g.report.summary, String::new());
    }
}

/// Per task: status, cycles with the implementer's cost and tokens, review verdict tables.
fn tasks(h: &mut String, r: &RunRecord) {
    if r.tasks.is_empty() {
        return;
    }
    h.push_str("<section><h2>Tasks</h2>\n");
    for (i, t) in r.tasks.iter().enumerate() {
        let _ = write!(
            h,
            "<article class=\"task\" id=\"task-{i}\"><h3><span class=\"task-id\">{}</span> {} \
             <span class=\"status s-{st}\">{st}</span></h3>",
            e(&t.id),
            e(&t.title),
            st = t.status.as_str()
        );
        if let Some(b) = &t.blocked_reason {
            let _ = write!(h, "<p class=\"blocked\">Blocked: {}</p>", e(b));
        }
        if let Some(c) = &t.commit {
            let _ = write!(h, "<p>Commit <code>{}</code></p>", e(c));
        }
        cycles_table(h, t);
        for c in &t.cycles {
            reviews(h, c);
        }
        h.push_str("</article>\n");
    }
    h.push_str("</section>\n");
}

fn cycles_table(h: &mut String, t: &TaskRecord) {
    if t.cycles.is_empty() {
        return;
    }
    h.push_str("<table class=\"cycles\"><thead><tr><th>Cycle</th><th>Outcome</th><th>Implementer</th>\
        <th>Gates</th><th>Cost (USD)</th><th>Tokens in / out</th><th>Turns</th></tr></thead><tbody>");
    for c in &t.cycles {
        let imp = c.implementer.as_ref();
        let u = imp.and_then(|i| i.usage.clone()).unwrap_or_default();
        let opt = |v: Option<String>| v.unwrap_or_else(|| "–".into());
        let gates: Vec<String> = c
            .gates
            .iter()
            .map(|g| {
                format!(
                    "{} {:?} ({} ms)",
                    g.name, g.report.outcome, g.report.duration_ms
                )
                .to_lowercase()
            })
            .collect();
        let _ = write!(
            h,
            "<tr><td>{}</td><td class=\"s-{out}\">{out}</td><td>{}</td><td>{}</td><td>{}</td>\
             <td>{} / {}</td><td>{}</td></tr>",
            c.number,
            e(&imp
                .map(|i| format!("{}: {}", i.plugin, i.summary))
                .unwrap_or_default()),
            e(&gates.join(", ")),
            opt(u.cost_usd.map(|c| format!("{c:.4}"))),
            opt(u.input_tokens.map(|n| n.to_string())),
            opt(u.output_tokens.map(|n| n.to_string())),
            opt(u.turns.map(|n| n.to_string())),
            out = format!("{:?}", c.outcome).to_lowercase(),
        );
    }
    h.push_str("</tbody></table>");
}

fn reviews(h: &mut String, c: &Cycle) {
    for rv in &c.reviews {
        let _ = write!(
            h,
            "<div class=\"review\"><h4>Cycle {} · {:?} review by {} · <span class=\"s-{o}\">{o}</span>{}</h4>\
             <p>{}</p>",
            c.number,
            rv.kind,
            e(&rv.plugin),
            rv.usage.as_ref().map(review_cost).unwrap_or_default(),
            e(rv.reason()),
            o = format!("{:?}", rv.outcome).to_lowercase(),
        );
        if let Some(v) = &rv.review {
            h.push_str("<table class=\"verdict\"><thead><tr><th>Criterion</th><th>Score</th><th>Reasoning</th></tr></thead><tbody>");
            for k in &v.criteria {
                let score = format!("{:?}", k.score).to_lowercase();
                let _ = write!(
                    h,
                    "<tr><td>{}</td><td class=\"score-{score}\">{score}</td><td>{}</td></tr>",
                    e(&k.name),
                    e(&k.reasoning)
                );
            }
            h.push_str("</tbody></table>");
        }
        h.push_str("</div>");
    }
}

/// ` · cost $0.0125, 1200 in / 300 out tokens, 4 turns`: what an agent reviewer
/// reported (numbers only, nothing to escape).
fn review_cost(u: &planexec_record::Usage) -> String {
    let mut parts = Vec::new();
    if let Some(c) = u.cost_usd {
        parts.push(format!("${c:.4}"));
    }
    if u.input_tokens.is_some() || u.output_tokens.is_some() {
        let n = |v: Option<u64>| v.map_or("–".to_string(), |n| n.to_string());
        parts.push(format!(
            "{} in / {} out tokens",
            n(u.input_tokens),
            n(u.output_tokens)
        ));
    }
    if let Some(t) = u.turns {
        parts.push(format!("{t} turns"));
    }
    if parts.is_empty() {
        return String::new();
    }
    format!(
        " · <span class=\"review-cost\">cost {}</span>",
        parts.join(", ")
    )
}

fn issues(h: &mut String, r: &RunRecord) {
    if r.issues.is_empty() {
        return;
    }
    h.push_str("<section><h2>Issues</h2><ul class=\"issues\">");
    for i in &r.issues {
        let _ = write!(h, "<li>{} → {}</li>", e(&i.issue), e(&i.resolution));
    }
    h.push_str("</ul></section>\n");
}
