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

/// A fresh directory for one test's files.
fn scratch(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("{name}-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn text(out: &std::process::Output) -> (String, String) {
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn prod_without_a_signing_key_stops_before_touching_the_database() {
    let dir = scratch("prod-key");
    let file = dir.join("never.db");
    let out = platform()
        .env_remove("CONFIG_FILE")
        .env_remove("JWT_SECRET")
        .env_remove("JWT_PRIVATE_KEY")
        .env("APP_PROFILE", "prod")
        .env(
            "DATABASE_URL",
            format!("sqlite://{}?mode=rwc", file.display()),
        )
        .current_dir(&dir)
        .output()
        .unwrap();
    let (_, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
    assert!(stderr.contains("JWT_SECRET"), "{stderr}");
    assert!(!file.exists(), "the database file was created");
}

#[test]
fn token_issue_without_a_key_says_it_needs_the_servers_key() {
    let dir = scratch("token-key");
    let out = platform()
        .args(["token", "issue", "--service-account", "sync"])
        .env_remove("CONFIG_FILE")
        .env_remove("JWT_SECRET")
        .env_remove("JWT_PRIVATE_KEY")
        .env(
            "DATABASE_URL",
            format!("sqlite://{}/t.db?mode=rwc", dir.display()),
        )
        .current_dir(&dir)
        .output()
        .unwrap();
    let (_, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("JWT_SECRET"), "{stderr}");
    assert!(!stderr.contains("prod profile"), "{stderr}");
    assert!(stderr.contains("server"), "{stderr}");
}

#[test]
fn a_day_out_of_range_says_the_expected_format() {
    let out = platform()
        .args(["units", "count", "--as-of", "2024-13-40"])
        .env_remove("CONFIG_FILE")
        .current_dir(std::env::temp_dir())
        .output()
        .unwrap();
    let (_, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("YYYY-MM-DD"), "{stderr}");
}

#[test]
fn an_sqlite_file_that_cannot_be_opened_is_named() {
    let dir = scratch("sqlite-open");
    // Read-only mode on a file that does not exist: the driver cannot open it.
    let file = dir.join("missing.db");
    let out = platform()
        .args(["migrate", "status"])
        .env_remove("CONFIG_FILE")
        .env(
            "DATABASE_URL",
            format!("sqlite://{}?mode=ro", file.display()),
        )
        .current_dir(&dir)
        .output()
        .unwrap();
    let (_, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains(&file.display().to_string()), "{stderr}");
    assert!(stderr.contains("DATABASE_URL"), "{stderr}");
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
}

#[test]
fn an_unreachable_or_missing_postgresql_database_says_what_to_do() {
    // Nothing listens on port 1: refused at once.
    let out = platform()
        .args(["migrate", "status"])
        .env_remove("CONFIG_FILE")
        .env("DATABASE_URL", "postgres://app:s3cret@127.0.0.1:1/platform")
        .current_dir(std::env::temp_dir())
        .output()
        .unwrap();
    let (_, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("cannot reach postgres://app:***@127.0.0.1:1/platform"),
        "{stderr}"
    );
    assert!(!stderr.contains("s3cret"));
    // A server that is up, and a database it does not have (when one is available).
    if let Ok(admin) = std::env::var("TEST_DATABASE_URL")
        && let Some((base, _)) = admin.rsplit_once('/')
    {
        let out = platform()
            .args(["migrate", "status"])
            .env_remove("CONFIG_FILE")
            .env("DATABASE_URL", format!("{base}/no_such_database_here"))
            .current_dir(std::env::temp_dir())
            .output()
            .unwrap();
        let (_, stderr) = text(&out);
        assert_eq!(out.status.code(), Some(1), "{stderr}");
        assert!(
            stderr.contains("`no_such_database_here` does not exist"),
            "{stderr}"
        );
        assert!(stderr.contains("createdb"), "{stderr}");
        assert!(!stderr.contains(" at line "), "{stderr}");
    }
}

#[test]
fn seed_demo_says_what_it_loaded() {
    let dir = scratch("seed-demo");
    let url = format!("sqlite://{}/seed.db?mode=rwc", dir.display());
    let run = || {
        platform()
            .args(["seed-demo", "--with-users"])
            .env_remove("CONFIG_FILE")
            .env("DATABASE_URL", &url)
            .env("LOG_LEVEL", "warn")
            .current_dir(&dir)
            .output()
            .unwrap()
    };
    let out = run();
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stderr}");
    assert!(stdout.contains("loaded the demo area"), "{stdout}");
    assert!(
        stdout.contains("loaded 7 of the 7 demo planning documents"),
        "{stdout}"
    );
    assert!(stdout.contains("created 6 demo users"), "{stdout}");
    let (stdout, _) = text(&run());
    assert!(stdout.contains("loaded 0 of the 7"), "{stdout}");
}

#[test]
fn help_describes_the_program_not_the_library() {
    let out = platform().arg("--help").output().unwrap();
    let (stdout, _) = text(&out);
    assert!(
        stdout.starts_with("GraphQL API of the Vietnamese regional data platform"),
        "{stdout}"
    );
    assert!(!stdout.contains("HTTP and GraphQL layer"), "{stdout}");
}

#[test]
fn sigterm_stops_the_server_cleanly() {
    let dir = scratch("sigterm");
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let mut child = platform()
        .arg("serve")
        .env_remove("CONFIG_FILE")
        .env(
            "DATABASE_URL",
            format!("sqlite://{}/s.db?mode=rwc", dir.display()),
        )
        .env("BIND_ADDR", format!("127.0.0.1:{port}"))
        .env("LOG_LEVEL", "warn")
        .current_dir(&dir)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let started = std::time::Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(started.elapsed().as_secs() < 30, "the server did not start");
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let asked = std::time::Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            assert!(status.success(), "{status}");
            break;
        }
        assert!(
            asked.elapsed().as_secs() < 10,
            "still running 10 s after SIGTERM"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}
