use super::*;

/// The example from the issue, verbatim: it must be accepted as written.
pub const EXAMPLE: &str = r#"name = "pool-saturation"
claim = "H1"                      # id from CLAIMS.md
title = "A bounded thread pool saturates under long I/O"
repetitions = 3
duration_s = 5
warmup_s = 1

[load]
mode = "closed"                   # "closed": N clients; "open": arrivals at a rate
timeout_ms = 2000

[matrix]                          # the cartesian product of these lists is the set of cells
model = ["threads", "tokio", "tokio-current", "async-std", "smol"]
threads = [200]                   # pool size of the `threads` model
concurrency = [100, 1000, 10000]  # closed loop: clients in flight
io = ["timer"]
io_latency_ms = [100]
cpu_ms = [0.0]
offload = ["inline"]

[profiles.quick]                  # a profile overrides any key above
concurrency = [100, 1000]
duration_s = 2
repetitions = 1
"#;

fn err(text: &str) -> (usize, String, String) {
    match parse("x.toml", text, None, false).unwrap_err() {
        SpecError::Invalid {
            line, key, message, ..
        } => (line, key, message),
        other => panic!("unexpected error {other}"),
    }
}

#[test]
fn accepts_the_issue_example() {
    let s = parse("pool.toml", EXAMPLE, None, false).unwrap();
    assert_eq!(s.name, "pool-saturation");
    assert_eq!(s.claim, "H1");
    assert_eq!(s.repetitions, 3);
    assert_eq!(s.duration_s, 5.0);
    assert_eq!(s.load.timeout_ms, 2000);
    assert_eq!(s.matrix.model.len(), 5);
    assert_eq!(s.matrix.concurrency, vec![100, 1000, 10000]);
    assert_eq!(s.matrix.io_latency_ms, vec![100.0]);
    assert_eq!(s.matrix.cpu, vec![CpuSize::Ms(0.0)]);
}

#[test]
fn a_profile_overrides_top_level_and_matrix_keys() {
    let s = parse("pool.toml", EXAMPLE, Some("quick"), false).unwrap();
    assert_eq!(s.profile.as_deref(), Some("quick"));
    assert_eq!(s.repetitions, 1);
    assert_eq!(s.duration_s, 2.0);
    assert_eq!(s.matrix.concurrency, vec![100, 1000]);
    assert_eq!(
        s.matrix.model.len(),
        5,
        "keys the profile does not name stay"
    );
}

#[test]
fn an_unknown_profile_is_an_error_unless_optional() {
    assert!(matches!(
        parse("p.toml", EXAMPLE, Some("nope"), false),
        Err(SpecError::UnknownProfile { .. })
    ));
    let s = parse("p.toml", EXAMPLE, Some("nope"), true).unwrap();
    assert_eq!(s.profile, None);
    assert_eq!(s.repetitions, 3);
}

#[test]
fn an_unknown_key_names_file_line_and_key() {
    let text = EXAMPLE.replace("cpu_ms = [0.0]", "cpu_ms = [0.0]\nlatency_budget = [3]");
    let (line, key, message) = err(&text);
    assert_eq!(line, 19);
    assert_eq!(key, "matrix.latency_budget");
    assert!(message.contains("unknown field"), "{message}");
}

#[test]
fn a_negative_latency_names_file_line_and_key() {
    let text = EXAMPLE.replace("io_latency_ms = [100]", "io_latency_ms = [-1]");
    let e = parse("experiments/bad.toml", &text, None, false)
        .unwrap_err()
        .to_string();
    assert!(e.starts_with("experiments/bad.toml:17:"), "{e}");
    assert!(e.contains("`matrix.io_latency_ms`"), "{e}");
    assert!(e.contains("out of range"), "{e}");
}

#[test]
fn a_wrong_type_names_the_key() {
    let (line, key, message) = err(&EXAMPLE.replace("repetitions = 3", "repetitions = \"three\""));
    assert_eq!((line, key.as_str()), (4, "repetitions"));
    assert!(message.contains("invalid type"), "{message}");
}

#[test]
fn out_of_range_values_are_errors() {
    for (from, to, key) in [
        (
            "concurrency = [100, 1000, 10000]",
            "concurrency = [0]",
            "matrix.concurrency",
        ),
        ("cpu_ms = [0.0]", "cpu_ratio = [1.0]", "matrix.cpu_ratio"),
        (
            "model = [\"threads\", \"tokio\", \"tokio-current\", \"async-std\", \"smol\"]",
            "model = [\"fibers\"]",
            "matrix.model",
        ),
        ("threads = [200]", "threads = []", "matrix.threads"),
        ("timeout_ms = 2000", "timeout_ms = 0", "load.timeout_ms"),
        ("claim = \"H1\"", "claim = \"H42\"", "claim"),
    ] {
        let (_, k, m) = err(&EXAMPLE.replace(from, to));
        assert_eq!(k, key, "{to}: {m}");
    }
}

#[test]
fn an_error_inside_a_profile_points_into_the_profile() {
    let text = EXAMPLE.replace("concurrency = [100, 1000]", "concurrency = [100, -3]");
    match parse("x.toml", &text, Some("quick"), false).unwrap_err() {
        SpecError::Invalid { line, key, .. } => {
            assert_eq!(line, 22);
            assert_eq!(key, "profiles.quick.concurrency");
        }
        e => panic!("{e}"),
    }
}

#[test]
fn validate_all_checks_every_profile() {
    let dir = std::env::temp_dir().join(format!("tl-spec-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join("s.toml");
    std::fs::write(&p, EXAMPLE.replace("duration_s = 2", "duration_s = -2")).unwrap();
    let e = validate_all(&p).unwrap_err().to_string();
    assert!(e.contains("profiles.quick.duration_s"), "{e}");
    std::fs::write(&p, EXAMPLE).unwrap();
    assert_eq!(validate_all(&p).unwrap().len(), 2);
}

#[test]
fn open_loop_needs_rates_and_rejects_concurrency() {
    let text = EXAMPLE.replace("mode = \"closed\"", "mode = \"open\"");
    let (_, key, _) = err(&text);
    assert_eq!(key, "matrix.concurrency");
    let text = text
        .replace(
            "concurrency = [100, 1000, 10000]",
            "rate_rps = [100.0, 400]\n",
        )
        .replace("concurrency = [100, 1000]", "rate_rps = [50]");
    let s = parse("x.toml", &text, Some("quick"), false).unwrap();
    assert_eq!(s.load.mode, LoadMode::Open);
    assert_eq!(s.matrix.rate_rps, vec![50.0]);
}

#[test]
fn cpu_ratio_and_cpu_ms_are_exclusive() {
    let (_, key, m) = err(&EXAMPLE.replace("cpu_ms = [0.0]", "cpu_ms = [0.0]\ncpu_ratio = [0.5]"));
    assert_eq!(key, "matrix.cpu_ratio", "{m}");
}

#[test]
fn verdict_rules_are_read() {
    let text = format!(
        "{EXAMPLE}\n[[verdict]]\ntext = \"pool caps\"\nmetric = \"fidelity\"\nfilter = {{ model = \"threads\", concurrency = \">=400\" }}\ncompare = \">=\"\nthreshold = 0.9\n"
    );
    let s = parse("x.toml", &text, None, false).unwrap();
    assert_eq!(s.verdict.len(), 1);
    assert_eq!(
        s.verdict[0].filter["concurrency"],
        serde_json::json!(">=400")
    );
    let bad = text.replace("compare = \">=\"", "compare = \"~\"");
    let e = parse("x.toml", &bad, None, false).unwrap_err().to_string();
    let line = bad.lines().position(|l| l.starts_with("compare")).unwrap() + 1;
    assert!(e.contains(&format!("x.toml:{line}:")), "{e}");
    assert!(e.contains("compare must be one of"), "{e}");
}

/// The manifest records the matrix as the struct with a field per factor
/// did: every list under its key, in that order, and reads it back. A
/// factor declared later may sit among them (its own key, its own lists).
#[test]
fn the_matrix_is_recorded_as_before() {
    let s = parse("pool.toml", EXAMPLE, None, false).unwrap();
    let json = serde_json::to_string(&s.matrix).unwrap();
    let was = r#"{"model":["threads","tokio","tokio-current","async-std","smol"],"transport":["in-process"],"threads":[200],"queue":[8292],"workers":[null],"pool_threads":[null],"concurrency":[100,1000,10000],"rate_rps":[],"io":["timer"],"io_latency_ms":[100.0],"cpu":[{"ms":0.0}],"offload":["inline"],"pinning":["none"],"stack_kib":[null],"java":[null],"loop_debug":[null],"client":["async"],"db_query":["sleep"],"db_pool":[10]}"#;
    type Lists = serde_json::Map<String, serde_json::Value>;
    let (before, now): (Lists, Lists) = (
        serde_json::from_str(was).unwrap(),
        serde_json::from_str(&json).unwrap(),
    );
    let place = |text: &str, key: &str| text.find(&format!("\"{key}\":"));
    let mut keys: Vec<&String> = before.keys().collect();
    keys.sort_by_key(|k| place(was, k));
    let mut at = 0;
    for key in keys {
        assert_eq!(now.get(key), before.get(key), "{key} in {json}");
        let here = place(&json, key).unwrap();
        assert!(here >= at, "{key} out of its place in {json}");
        at = here;
    }
    let back: Matrix = serde_json::from_str(&json).unwrap();
    assert_eq!(back, s.matrix);
}

/// A setting is checked as its declaration says: bounds, a further check,
/// its closed set, and its alias.
#[test]
fn settings_are_checked_as_declared() {
    let with = |line: &str| EXAMPLE.replace("offload = [\"inline\"]", line);
    let (line, key, m) = err(&with("java = [23]"));
    assert_eq!((line, key.as_str()), (19, "matrix.java"));
    assert!(m.contains("the Java stacks run on [21, 25]"), "{m}");
    let (_, key, m) = err(&with("workers = [0]"));
    assert_eq!(
        (key.as_str(), m.as_str()),
        ("matrix.workers", "0 is out of range: must be 1..=1024")
    );
    let (_, _, m) = err(&with("driver = [\"nope\"]"));
    assert!(
        m.starts_with("unknown client `nope`, expected one of: async"),
        "{m}"
    );
    let s = parse(
        "x.toml",
        &with("driver = [\"blocking\"]\nloop_debug = [true]"),
        None,
        false,
    )
    .unwrap();
    use threadloop_vocab::factors::{Setting, Value};
    assert_eq!(
        s.matrix.setting(Setting::client),
        [Some(Value::Name("blocking"))]
    );
    assert_eq!(
        s.matrix.setting(Setting::loop_debug),
        [Some(Value::Bool(true))]
    );
}
