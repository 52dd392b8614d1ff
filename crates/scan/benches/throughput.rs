//! `make bench`: how fast the built-in rules scan a large tree of real
//! source — the cargo registry's crate sources on this machine (over a
//! gigabyte of Rust, C, docs and test data), or `SCAN_BENCH_TREE`. Reports
//! files, bytes and MB/s over the whole tree (the walk and file reading
//! included), the second of two runs (the first warms the page cache).
//! Then this repository's git history (or `SCAN_BENCH_REPO`'s): commits,
//! distinct blobs, bytes and seconds, the best of three runs.

use std::path::PathBuf;
use std::time::Instant;

use opsdeck_scan::{scan_history, scan_paths, HistoryOptions, RuleSet, Scanner, WalkOptions};

fn main() {
    let tree = std::env::var_os("SCAN_BENCH_TREE").map(PathBuf::from).unwrap_or_else(|| {
        let home = std::env::var_os("CARGO_HOME")
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from(std::env::var_os("HOME").unwrap_or_default()).join(".cargo"));
        home.join("registry/src")
    });
    let rules = RuleSet::built_in().expect("built-in rules");
    let rule_count = rules.rules().len();
    let scanner = Scanner::new(rules).expect("scanner");
    history(&scanner);
    if !tree.is_dir() {
        println!("scan throughput: {} is not a folder; set SCAN_BENCH_TREE", tree.display());
        return;
    }
    let options = WalkOptions::default();
    let mut last = None;
    for _ in 0..2 {
        let started = Instant::now();
        let report = scan_paths(&scanner, std::slice::from_ref(&tree), &options);
        last = Some((started.elapsed().as_secs_f64(), report));
    }
    let Some((seconds, report)) = last else { return };
    let megabytes = report.bytes as f64 / 1e6;
    let mut by_rule: std::collections::BTreeMap<&str, usize> = std::collections::BTreeMap::new();
    for finding in &report.findings {
        *by_rule.entry(finding.found.rule.as_str()).or_default() += 1;
    }
    let mut top: Vec<(&str, usize)> = by_rule.into_iter().collect();
    top.sort_by_key(|entry| std::cmp::Reverse(entry.1));
    println!(
        "scan throughput: {} files, {megabytes:.0} MB of {} in {seconds:.2} s = {:.0} MB/s on {} threads ({rule_count} rules; {} findings, {} paths skipped)",
        report.files,
        tree.display(),
        megabytes / seconds,
        options.threads,
        report.findings.len(),
        report.skipped.len()
    );
    let shown: Vec<String> = top.iter().take(8).map(|(rule, count)| format!("{rule} {count}")).collect();
    println!("scan throughput: findings by rule (most first): {}", shown.join(", "));
}

/// This repository's history, each blob once (the aim: under 2 s).
fn history(scanner: &Scanner) {
    let repository = std::env::var_os("SCAN_BENCH_REPO")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../.."));
    let mut best: Option<(f64, opsdeck_scan::HistoryReport)> = None;
    for _ in 0..3 {
        let started = Instant::now();
        let report = match scan_history(scanner, &repository, &HistoryOptions::default()) {
            Ok(report) => report,
            Err(error) => {
                println!("scan history: {error}");
                return;
            }
        };
        let seconds = started.elapsed().as_secs_f64();
        if best.as_ref().is_none_or(|(held, _)| seconds < *held) {
            best = Some((seconds, report));
        }
    }
    let Some((seconds, report)) = best else { return };
    println!(
        "scan history: {} commits, {} distinct blobs, {:.1} MB of {} in {seconds:.2} s = {:.0} MB/s ({} findings, {} notes)",
        report.commits,
        report.blobs,
        report.bytes as f64 / 1e6,
        repository.display(),
        report.bytes as f64 / 1e6 / seconds,
        report.findings.len(),
        report.skipped.len()
    );
}
