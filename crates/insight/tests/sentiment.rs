//! The analyser on a labelled sample of support messages and survey
//! comments (30 negative, 30 neutral, 30 positive), written for this test
//! and kept in `sentiment_sample.tsv`. Prints accuracy and per-label recall.

use domain::sentiment::{SentimentAnalyser, SentimentLabel};
use insight::sentiment::vader;

#[test]
fn accuracy_on_the_labelled_sample() {
    let sample = include_str!("sentiment_sample.tsv");
    let mut total = 0;
    let mut right = 0;
    let mut per: std::collections::BTreeMap<&str, (u32, u32)> = Default::default();
    let mut wrong = Vec::new();
    for line in sample.lines().filter(|l| !l.starts_with('#') && !l.trim().is_empty()) {
        let Some((label, text)) = line.split_once('\t') else { panic!("bad line: {line}") };
        let expected = SentimentLabel::parse("label", label).unwrap();
        let got = vader().analyse(text);
        total += 1;
        let entry = per.entry(expected.as_str()).or_default();
        entry.1 += 1;
        if got.label == expected {
            right += 1;
            entry.0 += 1;
        } else {
            wrong.push(format!("{label} as {} ({:.3}): {text}", got.label, got.score));
        }
    }
    let accuracy = f64::from(right) / f64::from(total);
    println!("sentiment accuracy: {right}/{total} = {:.1}%", accuracy * 100.0);
    for (label, (r, n)) in &per {
        println!("  {label}: {r}/{n} recalled");
    }
    for w in &wrong {
        println!("  missed: {w}");
    }
    assert_eq!(total, 90);
    assert!(accuracy >= 0.75, "accuracy {accuracy}");
    // Negative messages matter most (escalations read them).
    let (neg, n) = per["negative"];
    assert!(f64::from(neg) / f64::from(n) >= 0.75, "negative recall {neg}/{n}");
}

#[test]
fn long_text_is_bounded_and_empty_is_neutral() {
    assert_eq!(vader().analyse("").label, SentimentLabel::Neutral);
    let long = "terrible ".repeat(100_000);
    assert_eq!(vader().analyse(&long).label, SentimentLabel::Negative);
}
