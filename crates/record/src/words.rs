//! How a command line given as one string becomes words, on both sides of the wasm
//! wall (the `command` gate's plugin and the host's `{files}` expansion): never a shell.

/// Splits a command line on whitespace, honouring single and double quotes.
/// Never a shell: no globbing, no variables, no pipes.
pub fn split_command(line: &str) -> Vec<String> {
    let (mut out, mut cur, mut quote, mut any) = (Vec::new(), String::new(), None, false);
    for c in line.chars() {
        match quote {
            Some(q) if c == q => quote = None,
            Some(_) => cur.push(c),
            None if c == '\'' || c == '"' => (quote, any) = (Some(c), true),
            None if c.is_whitespace() => {
                if any || !cur.is_empty() {
                    out.push(std::mem::take(&mut cur));
                    any = false;
                }
            }
            None => cur.push(c),
        }
    }
    if any || !cur.is_empty() {
        out.push(cur);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_quotes() {
        assert_eq!(
            split_command("python3 -m 'py test' \"a b\" c ''"),
            ["python3", "-m", "py test", "a b", "c", ""]
        );
        assert!(split_command("  ").is_empty());
    }
}
