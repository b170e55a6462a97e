use std::path::{Path, PathBuf};

use serde_json::Value;

use super::log::*;
use super::record::*;
use super::verify::*;
use std::io::Read;

fn log_with(records: usize) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("audit.jsonl");
    let log = AuditLog::open(&path).unwrap();
    for i in 0..records {
        log.record(AuditRecord::Load {
            plugin: format!("p{i}"),
            version: "1.0.0".into(),
            sha256: "x".into(),
        });
    }
    log.close();
    (dir, path)
}

fn lines(path: &Path) -> Vec<String> {
    std::fs::read_to_string(path).unwrap().lines().map(String::from).collect()
}

fn write_lines(path: &Path, lines: &[String]) {
    std::fs::write(path, lines.iter().map(|l| format!("{l}\n")).collect::<String>()).unwrap();
}

#[test]
fn the_chain_check_works_on_bytes_too() {
    let (_dir, path) = log_with(3);
    let bytes = std::fs::read(&path).unwrap();
    let lines = bytes.iter().filter(|&&b| b == b'\n').count() as u64;
    let report = verify_chain(&bytes[..]).unwrap();
    assert_eq!((report.valid_records, report.head_checked), (lines, false));
    assert!(report.is_intact());
    // Edit the record of plugin p0: it still reads, the record after it no longer chains to
    // it, and the one after that chains to that one: the edited record is named.
    let at = bytes.windows(4).position(|w| w == b"\"p0\"").unwrap();
    let line_of_p0 = bytes[..at].iter().filter(|&&b| b == b'\n').count() as u64 + 1;
    let mut edited = bytes.clone();
    edited[at + 2] = b'9';
    let report = verify_chain(&edited[..]).unwrap();
    assert_eq!(report.first_bad.as_ref().unwrap().line, line_of_p0, "{report:?}");
    assert!(report.first_bad.unwrap().reason.starts_with("edited"));
    assert_eq!(report.valid_records, line_of_p0 - 1);
    let torn = verify_chain(&bytes[..bytes.len() - 5]).unwrap();
    assert_eq!((torn.valid_records, torn.torn_tail.unwrap().line), (lines - 1, lines));
}

#[test]
fn a_written_log_verifies_and_reopening_continues_the_chain() {
    let (_dir, path) = log_with(3);
    let report = verify(&path).unwrap();
    assert!(report.is_intact() && report.head_checked, "{report:?}");
    assert_eq!(report.valid_records, 4, "opened + 3 loads");
    let log = AuditLog::open(&path).unwrap();
    log.record(AuditRecord::Grant { plugin: "p".into(), capability: "wall-clock".into() });
    log.close();
    assert_eq!(verify(&path).unwrap().valid_records, 6);
}

#[test]
fn an_edited_line_is_named_itself() {
    for edited in 1..5 {
        let (_dir, path) = log_with(5);
        let mut l = lines(&path);
        l[edited] = l[edited].replace("\"1.0.0\"", "\"6.6.6\"");
        write_lines(&path, &l);
        let report = verify(&path).unwrap();
        let bad = report.first_bad.as_ref().unwrap();
        assert_eq!(bad.line, edited as u64 + 1, "{report:?}");
        assert!(bad.reason.starts_with("edited"), "{bad:?}");
        assert_eq!(report.valid_records, edited as u64, "the records before it verify");
    }
    // The last record, edited: the head file settles it.
    let (_dir, path) = log_with(3);
    let mut l = lines(&path);
    l[3] = l[3].replace("\"p2\"", "\"px\"");
    write_lines(&path, &l);
    let report = verify(&path).unwrap();
    assert_eq!(report.first_bad.as_ref().unwrap().line, 4, "{report:?}");
    assert_eq!(report.valid_records, 3);
}

#[test]
fn a_changed_link_names_its_own_record() {
    let (_dir, path) = log_with(4);
    let mut l = lines(&path);
    let prev = serde_json::from_str::<Value>(&l[2]).unwrap()["prev"].as_str().unwrap().to_string();
    l[2] = l[2].replace(&prev, &"f".repeat(64));
    write_lines(&path, &l);
    let report = verify(&path).unwrap();
    let bad = report.first_bad.as_ref().unwrap();
    assert_eq!(bad.line, 3, "{report:?}");
    assert!(bad.reason.contains("does not chain"), "{bad:?}");
    assert_eq!(report.valid_records, 2);
}

#[test]
fn the_head_file_is_checked_and_named_when_missing_or_unreadable() {
    let (_dir, path) = log_with(2);
    let report = verify(&path).unwrap();
    assert_eq!((report.head.clone(), report.head_checked), (HeadCheck::Agrees, true));
    let head = head_path(&path);
    std::fs::write(&head, b"garbage").unwrap();
    let report = verify(&path).unwrap();
    assert!(matches!(report.head, HeadCheck::Unreadable(_)), "{report:?}");
    assert!(!report.is_intact() && report.first_bad.is_none());
    assert!(AuditLog::open(&path).is_err(), "no appending to a log whose head was tampered with");
    std::fs::remove_file(&head).unwrap();
    let report = verify(&path).unwrap();
    assert_eq!((report.head.clone(), report.head_checked), (HeadCheck::Missing, false));
    assert!(report.is_intact());
}

#[test]
fn overlong_lines_and_special_files_are_refused_without_reading_them_whole() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("long.jsonl");
    let mut text = vec![b'x'; (MAX_RECORD_BYTES + 10) as usize];
    text.push(b'\n');
    std::fs::write(&path, &text).unwrap();
    let bad = verify(&path).unwrap().first_bad.unwrap();
    assert_eq!(bad.line, 1);
    assert!(bad.reason.contains("longer than"), "{bad:?}");
    // Endless input without a newline: bounded memory, a verdict.
    let endless = std::io::BufReader::new(std::io::repeat(b'{').take(64 * MAX_RECORD_BYTES));
    assert!(verify_chain(endless).unwrap().first_bad.is_some());
    let err = verify(Path::new("/dev/zero")).unwrap_err();
    assert!(err.to_string().contains("not a regular file"), "{err}");
    assert!(AuditLog::open("/dev/null").unwrap_err().to_string().contains("not a regular file"));
}

#[test]
fn many_writers_in_one_process_keep_one_chain() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("audit.jsonl");
    let threads: Vec<_> = (0..8)
        .map(|w| {
            let path = path.clone();
            std::thread::spawn(move || {
                let log = AuditLog::open(&path).unwrap();
                for i in 0..25 {
                    log.record(AuditRecord::Load {
                        plugin: format!("w{w}-{i}"),
                        version: "1.0.0".into(),
                        sha256: "x".into(),
                    });
                    if i % 5 == 0 {
                        log.flush();
                    }
                }
                log.close();
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    let report = verify(&path).unwrap();
    assert!(report.is_intact(), "{report:?}");
    assert_eq!(report.valid_records, 8 * 26, "every writer's opened record and its 25 loads");
}

#[test]
fn a_removed_line_is_named() {
    let (_dir, path) = log_with(3);
    let mut l = lines(&path);
    l.remove(1);
    write_lines(&path, &l);
    let bad = verify(&path).unwrap().first_bad.unwrap();
    assert_eq!(bad.line, 2);
    assert!(bad.reason.contains("sequence"), "{bad:?}");
}

#[test]
fn reordered_lines_are_named() {
    let (_dir, path) = log_with(3);
    let mut l = lines(&path);
    l.swap(1, 2);
    write_lines(&path, &l);
    assert_eq!(verify(&path).unwrap().first_bad.unwrap().line, 2);
}

#[test]
fn a_removed_or_edited_tail_is_caught_by_the_head() {
    let (_dir, path) = log_with(3);
    let mut l = lines(&path);
    l.pop();
    write_lines(&path, &l);
    let bad = verify(&path).unwrap().first_bad.unwrap();
    assert!(bad.reason.contains("head file"), "{bad:?}");

    let (_dir, path) = log_with(3);
    let mut l = lines(&path);
    let last = l.len() - 1;
    l[last] = l[last].replace("\"p2\"", "\"px\"");
    write_lines(&path, &l);
    assert!(verify(&path).unwrap().first_bad.unwrap().reason.contains("head file"));
}

#[test]
fn a_torn_last_line_is_reported_apart_and_recovered_on_open() {
    let (_dir, path) = log_with(2);
    let mut text = std::fs::read(&path).unwrap();
    text.extend_from_slice(br#"{"seq":3,"time":"2026-"#);
    std::fs::write(&path, &text).unwrap();
    let report = verify(&path).unwrap();
    assert_eq!(report.first_bad, None, "a torn line is not tampering");
    assert_eq!(report.torn_tail.as_ref().unwrap().line, 4);
    assert_eq!(report.valid_records, 3, "earlier records stay valid");

    let log = AuditLog::open(&path).unwrap();
    log.close();
    let report = verify(&path).unwrap();
    assert!(report.is_intact(), "{report:?}");
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.contains("torn-tail-recovered"));
    let mut torn = path.as_os_str().to_owned();
    torn.push(".torn");
    assert_eq!(std::fs::read(PathBuf::from(torn)).unwrap(), br#"{"seq":3,"time":"2026-"#);
}

#[test]
fn a_tampered_log_is_not_appended_to() {
    let (_dir, path) = log_with(2);
    let mut l = lines(&path);
    l[1] = l[1].replace("p0", "pX");
    write_lines(&path, &l);
    assert!(AuditLog::open(&path).is_err());
}
