//! Native parse throughput of the streaming JUnit and `go test -json` parsers on generated
//! reports: `cargo run --release -p testfmt --example bench_native -- [N=100000] [DIR=/tmp]`.

use std::io::{BufReader, BufWriter};
use std::time::Instant;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let n: usize = args
        .first()
        .map(|s| s.parse().expect("N"))
        .unwrap_or(100_000);
    let dir = std::path::PathBuf::from(
        args.get(1)
            .cloned()
            .unwrap_or_else(|| std::env::temp_dir().display().to_string()),
    );
    let expected = testfmt::gen::expected(n);
    for kind in ["junit", "gotest"] {
        let path = dir.join(format!(
            "bench-{kind}-{n}.{}",
            if kind == "junit" { "xml" } else { "json" }
        ));
        {
            let mut w = BufWriter::new(std::fs::File::create(&path).unwrap());
            if kind == "junit" {
                testfmt::gen::junit(&mut w, n).unwrap();
            } else {
                testfmt::gen::gotest(&mut w, n).unwrap();
            }
        }
        let size = std::fs::metadata(&path).unwrap().len() as f64;
        let mut best = f64::MAX;
        for _ in 0..3 {
            let f = BufReader::with_capacity(64 * 1024, std::fs::File::open(&path).unwrap());
            let t = Instant::now();
            let counts = if kind == "junit" {
                let mut r = testfmt::junit::JunitResult::default();
                testfmt::junit::parse(f, testfmt::junit::Style::Pytest, &mut r).unwrap();
                r.counts
            } else {
                let mut p = testfmt::gotest::Parser::new(Some("example.com/big".into()), None);
                p.read(f).unwrap();
                p.finish().counts
            };
            best = best.min(t.elapsed().as_secs_f64());
            assert_eq!((counts.passed, counts.failed, counts.skipped), expected);
        }
        println!(
            "{kind:6} {n} tests, {:.1} MB: best of 3 {:.3} s = {:.0} MB/s",
            size / 1e6,
            best,
            size / 1e6 / best
        );
        let _ = std::fs::remove_file(&path);
    }
}
