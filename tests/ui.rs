//! Compile-time behaviour: every promised error, and valid programs.
#![cfg(feature = "tokio")]

#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.pass("ui-tests/pass/*.rs");
    t.compile_fail("ui-tests/fail/*.rs");
}

/// The first screen of every promised error speaks of the user's code and
/// of ctx's documented names, never of generated internals.
#[test]
fn first_screen_of_every_error_is_free_of_internals() {
    const INTERNAL: [&str; 7] = [
        "__",
        "ctx_core",
        "probe",
        "AsyncBody",
        "ViaCx",
        "Plain",
        "Owned",
    ];
    let mut checked = 0;
    for entry in std::fs::read_dir("ui-tests/fail").unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "stderr") {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        for (n, line) in text.lines().take(15).enumerate() {
            for word in INTERNAL {
                assert!(
                    !line.contains(word),
                    "{}:{}: `{word}` in the first 15 lines: {line}",
                    path.display(),
                    n + 1
                );
            }
        }
        checked += 1;
    }
    assert!(checked >= 28, "only {checked} .stderr files found");
}
