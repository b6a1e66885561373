//! The words plans use for their parts, in one place and several languages: headings whose items
//! are work, section names (Progress, Milestones, Concrete Steps), and status words that mean done.

/// Heading words whose list items are work (`Tasks`, `Tareas`, `Aufgaben`, `任务`, ...).
pub const WORK_HEADINGS: &[&str] = &[
    // English
    "task",
    "todo",
    "to do",
    "to-do",
    "step",
    "checklist",
    "work",
    "implementation",
    "backlog",
    "action",
    // Spanish, Portuguese
    "tarea",
    "pasos",
    "paso ",
    "implementación",
    "implementacion",
    "tarefa",
    "etapas",
    "implementação",
    "pendiente",
    // French
    "tâche",
    "tache",
    "étape",
    "etape",
    "à faire",
    "a faire",
    // German
    "aufgabe",
    "schritt",
    "umsetzung",
    "arbeitspaket",
    // Chinese, Japanese
    "任务",
    "任務",
    "步骤",
    "待办",
    "タスク",
    "手順",
    "作業",
];

/// Section names by kind, each a list of prefixes of the lower-cased heading.
pub const PROGRESS: &[&str] = &[
    "progress",
    "progreso",
    "avance",
    "progrès",
    "progres",
    "avancement",
    "fortschritt",
    "progresso",
    "进度",
    "進度",
    "进展",
    "進捗",
];
/// Milestone sections.
pub const MILESTONES: &[&str] = &[
    "milestone",
    "hitos",
    "hito ",
    "jalons",
    "jalon ",
    "meilenstein",
    "marcos",
    "里程碑",
    "マイルストーン",
];
/// Concrete Steps sections of an ExecPlan.
pub const CONCRETE_STEPS: &[&str] = &[
    "concrete steps",
    "pasos concretos",
    "étapes concrètes",
    "etapes concretes",
    "konkrete schritte",
    "passos concretos",
    "具体步骤",
    "具体的な手順",
    "具体的手順",
];

/// Status words that mean a task is finished (a table's Status cell, a heading's `(Complete)`).
pub const DONE_WORDS: &[&str] = &[
    "done",
    "complete",
    "completed",
    "finished",
    "shipped",
    "merged",
    "closed",
    "resolved",
    "hecho",
    "completado",
    "completada",
    "terminado",
    "terminada",
    "listo",
    "lista",
    "fait",
    "terminé",
    "terminée",
    "achevé",
    "erledigt",
    "fertig",
    "abgeschlossen",
    "concluído",
    "concluido",
    "feito",
    "完成",
    "已完成",
    "完了",
    "済み",
    "✅",
    "✔",
    "✓",
];

/// Words that number a series of work units: `Week 3`, `Sprint 2`, `Fase 1`, `Woche 4`.
pub const SERIES_WORDS: &[&str] = &[
    "week",
    "phase",
    "stage",
    "step",
    "sprint",
    "day",
    "milestone",
    "part",
    "iteration",
    "epic",
    "wave",
    "semana",
    "fase",
    "etapa",
    "paso",
    "hito",
    "woche",
    "phase",
    "schritt",
    "semaine",
    "étape",
    "jalon",
    "阶段",
    "階段",
    "步骤",
    "第",
    "フェーズ",
    "ステップ",
];

/// Whether a lower-cased heading starts a numbered series unit: a series word, then a number
/// (`week 12: quality gates`, `phase 2 -`, `fase 03:`).
pub fn is_series_heading(lower: &str) -> bool {
    let l = lower.trim_start_matches(|c: char| !c.is_alphanumeric());
    SERIES_WORDS.iter().any(|w| {
        l.strip_prefix(w)
            .and_then(|r| r.trim_start().chars().next())
            .is_some_and(|c| c.is_ascii_digit())
    })
}

/// Whether a heading names a list of work, by the words above.
pub fn is_work_heading(lower: &str) -> bool {
    WORK_HEADINGS
        .iter()
        .any(|w| lower.starts_with(w) || lower.contains(&format!(" {w}")))
}

/// Whether a lower-cased section name starts with one of `names`.
pub fn names(lower: &str, names: &[&str]) -> bool {
    names.iter().any(|n| lower.starts_with(n))
}

/// Whether a status text says done: one of its words is a done word (`done`, `✅ Complete`,
/// `完成`), and it is not negated (`not done`, `incomplete`).
pub fn says_done(text: &str) -> bool {
    let l = text.to_lowercase();
    if l.contains("not ") || l.contains("incomplete") || l.contains("in progress") {
        return false;
    }
    l.split(|c: char| c.is_whitespace() || ",;:()[]*_`|/".contains(c))
        .any(|w| DONE_WORDS.contains(&w))
        || DONE_WORDS
            .iter()
            .filter(|w| !w.is_ascii())
            .any(|w| l.contains(w))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn done_words_in_several_languages_and_negations() {
        for s in ["done", "✅ Complete", "Erledigt", "已完成", "completado"] {
            assert!(says_done(s), "{s}");
        }
        for s in [
            "in_progress",
            "pending",
            "not done",
            "incomplete",
            "doneness",
        ] {
            assert!(!says_done(s), "{s}");
        }
    }
}
