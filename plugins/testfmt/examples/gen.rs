//! Writes a large generated test report for benchmarks and in-sandbox memory tests:
//! `cargo run --release -p testfmt --example gen -- junit|gotest PATH [N=100000]`.

use std::io::BufWriter;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (kind, path) = match (args.first(), args.get(1)) {
        (Some(k), Some(p)) => (k.as_str(), p.as_str()),
        _ => {
            eprintln!("usage: gen junit|gotest PATH [N=100000]");
            std::process::exit(2);
        }
    };
    let n: usize = args
        .get(2)
        .map(|s| s.parse().expect("N must be a number"))
        .unwrap_or(100_000);
    let mut w = BufWriter::new(std::fs::File::create(path).expect("create output file"));
    match kind {
        "junit" => testfmt::gen::junit(&mut w, n),
        "gotest" => testfmt::gen::gotest(&mut w, n),
        _ => {
            eprintln!("kind must be junit or gotest");
            std::process::exit(2);
        }
    }
    .expect("write");
    drop(w);
    let (p, f, s) = testfmt::gen::expected(n);
    let size = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
    println!("{kind}: {path}: {n} tests ({p} passed, {f} failed, {s} skipped), {size} bytes");
}
