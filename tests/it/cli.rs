//! The binary: bad configuration stops it with one line naming the setting.

use std::process::Command;

fn platform() -> Command {
    Command::new(env!("CARGO_BIN_EXE_platform"))
}

#[test]
fn bad_settings_exit_non_zero_with_one_line() {
    for (var, value) in [
        ("DATABASE_URL", "nonsense://"),
        ("BIND_ADDR", "not-an-address"),
        ("APP_PROFILE", "staging"),
        ("LOG_FORMAT", "xml"),
    ] {
        let out = platform()
            .env_remove("CONFIG_FILE")
            .env(var, value)
            .current_dir(std::env::temp_dir())
            .output()
            .unwrap();
        assert!(!out.status.success(), "{var}={value} should fail");
        let stderr = String::from_utf8(out.stderr).unwrap();
        assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
        assert!(stderr.contains(var), "{stderr}");
        assert!(!stderr.contains("panicked"));
    }
}

#[test]
fn help_lists_the_subcommands() {
    let out = platform().arg("--help").output().unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    for sub in ["serve", "migrate", "seed-demo", "schema"] {
        assert!(text.contains(sub), "{text}");
    }
}

#[test]
fn a_password_in_database_url_is_not_printed() {
    let out = platform()
        .args(["migrate", "status"])
        .env(
            "DATABASE_URL",
            "postgres://app:hunter2-secret@127.0.0.1:1/nowhere",
        )
        .current_dir(std::env::temp_dir())
        .output()
        .unwrap();
    assert!(!out.status.success());
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!all.contains("hunter2-secret"), "{all}");
}
