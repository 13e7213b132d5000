use super::*;

fn temp(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("nf-delta-{name}-{}", std::process::id()));
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).unwrap();
    dir
}

fn metadata() -> Metadata {
    Metadata {
        id: "00000000-0000-4000-8000-000000000000".into(),
        name: None,
        description: None,
        format: Format {
            provider: "parquet".into(),
            options: BTreeMap::new(),
        },
        schema_string: r#"{"type":"struct","fields":[]}"#.into(),
        partition_columns: vec!["sensor".into(), "date".into()],
        configuration: BTreeMap::new(),
        created_time: Some(0),
    }
}

fn add(path: &str) -> Action {
    Action::Add(Add {
        path: path.into(),
        partition_values: partition_values(path, &["sensor".into(), "date".into()]),
        size: 10,
        modification_time: 0,
        data_change: true,
        stats: Some(r#"{"numRecords":1}"#.into()),
        tags: None,
    })
}

fn txn(app: &str, version: i64) -> Action {
    Action::Txn(Txn {
        app_id: app.into(),
        version,
        last_updated: None,
    })
}

fn table(name: &str) -> Table {
    let t = Table::at(temp(name));
    assert!(t.create(metadata(), serde_json::json!({})).unwrap());
    t
}

#[test]
fn create_is_once_and_replay_gives_live_files_and_txns() {
    let t = table("replay");
    assert!(!t.create(metadata(), serde_json::json!({})).unwrap());
    let s = t.snapshot().unwrap();
    assert_eq!(s.version, 0);
    let v = t
        .commit(
            &s,
            &[add("sensor=a/date=2026-01-01/p1.parquet"), txn("in-1", 0)],
        )
        .unwrap();
    assert_eq!(v, 1);
    let s = t.snapshot().unwrap();
    let p1 = s.files["sensor=a/date=2026-01-01/p1.parquet"].clone();
    assert_eq!(p1.partition_values["sensor"].as_deref(), Some("a"));
    t.commit(
        &s,
        &[
            Action::Remove(Remove::of(&p1, 5, true)),
            add("sensor=a/date=2026-01-01/p2.parquet"),
            txn("in-1", 1),
        ],
    )
    .unwrap();
    let s = t.snapshot().unwrap();
    assert_eq!(s.version, 2);
    assert_eq!(
        s.files.keys().collect::<Vec<_>>(),
        ["sensor=a/date=2026-01-01/p2.parquet"]
    );
    assert_eq!(s.txn("in-1"), Some(1));
    assert_eq!(s.txn("in-2"), None);
}

#[test]
fn concurrent_appends_both_land_and_a_repeated_transaction_is_refused() {
    let t = table("concurrent");
    let read = t.snapshot().unwrap();
    // Two writers decided from the same snapshot.
    assert_eq!(
        t.commit(&read, &[add("x/a.parquet"), txn("in-a", 0)])
            .unwrap(),
        1
    );
    assert_eq!(
        t.commit(&read, &[add("x/b.parquet"), txn("in-b", 0)])
            .unwrap(),
        2
    );
    let s = t.snapshot().unwrap();
    assert_eq!(s.files.len(), 2);
    // A third that commits in-a again finds it in the winners.
    match t.commit(&read, &[add("x/c.parquet"), txn("in-a", 0)]) {
        Err(DeltaError::AlreadyCommitted { app_id, version }) => {
            assert_eq!((app_id.as_str(), version), ("in-a", 0))
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(t.snapshot().unwrap().files.len(), 2);
}

#[test]
fn removing_a_file_another_writer_removed_conflicts() {
    let t = table("remove");
    let s = t.snapshot().unwrap();
    t.commit(&s, &[add("x/a.parquet")]).unwrap();
    let read = t.snapshot().unwrap();
    let a = read.files["x/a.parquet"].clone();
    t.commit(
        &read,
        &[
            Action::Remove(Remove::of(&a, 1, false)),
            add("x/big.parquet"),
        ],
    )
    .unwrap();
    let err = t
        .commit(&read, &[Action::Remove(Remove::of(&a, 2, true))])
        .unwrap_err();
    assert!(matches!(err, DeltaError::Conflict { .. }), "{err}");
}

#[test]
fn damage_is_named_with_file_and_line() {
    let t = table("damage");
    let s = t.snapshot().unwrap();
    t.commit(&s, &[add("x/a.parquet")]).unwrap();
    let p = t.log_dir().join(commit_name(1));
    fs::write(&p, "{\"add\": {\"path\": 3}}\n").unwrap();
    let err = t.snapshot().unwrap_err();
    assert!(
        matches!(&err, DeltaError::Corrupt { line: 1, path, .. } if *path == p),
        "{err}"
    );
    fs::remove_file(&p).unwrap();
    fs::write(t.log_dir().join(commit_name(2)), "").unwrap();
    let err = t.snapshot().unwrap_err();
    assert!(
        matches!(
            err,
            DeltaError::Gap {
                missing: 1,
                next: 2,
                ..
            }
        ),
        "{err}"
    );
    assert!(matches!(
        Table::at(temp("none")).snapshot(),
        Err(DeltaError::NoTable(_))
    ));
}

#[test]
fn a_newer_protocol_is_refused_by_name() {
    let t = Table::at(temp("protocol"));
    fs::create_dir_all(t.log_dir()).unwrap();
    let meta = serde_json::to_string(&Action::MetaData(metadata())).unwrap();
    fs::write(
        t.log_dir().join(commit_name(0)),
        format!(
            "{{\"protocol\":{{\"minReaderVersion\":3,\"minWriterVersion\":7,\"readerFeatures\":[\"deletionVectors\"],\"writerFeatures\":[\"deletionVectors\"]}}}}\n{meta}\n"
        ),
    )
    .unwrap();
    let err = t.snapshot().unwrap_err().to_string();
    assert!(err.contains("deletionVectors"), "{err}");
}

#[test]
fn actions_are_written_as_the_protocol_spells_them() {
    let line = serde_json::to_string(&add("sensor=a/date=2026-01-01/p.parquet")).unwrap();
    assert_eq!(
        line,
        r#"{"add":{"path":"sensor=a/date=2026-01-01/p.parquet","partitionValues":{"date":"2026-01-01","sensor":"a"},"size":10,"modificationTime":0,"dataChange":true,"stats":"{\"numRecords\":1}"}}"#
    );
    let line = serde_json::to_string(&Action::MetaData(metadata())).unwrap();
    assert!(line.starts_with(r#"{"metaData":{"id":"#), "{line}");
    assert!(line.contains(r#""partitionColumns":["sensor","date"]"#));
}

#[test]
fn paths_encode_and_decode_and_escapes_are_refused() {
    assert_eq!(
        encode_path("sensor=a b/x%.parquet"),
        "sensor=a%20b/x%25.parquet"
    );
    assert_eq!(
        decode_path("sensor=a%20b/x%25.parquet").as_deref(),
        Some("sensor=a b/x%.parquet")
    );
    for bad in [
        "../x",
        "/etc/passwd",
        "a/../../x",
        "a//b",
        "%2e%2e/x",
        "a%",
        "a%zz",
    ] {
        assert_eq!(decode_path(bad), None, "{bad}");
    }
}
