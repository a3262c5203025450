//! A `results.parquet` written with a newer major schema version is refused
//! with a message that says so; one without a version (before versioning)
//! and one of this major read as before.

use polars::io::parquet::write::KeyValueMetadata;
use polars::prelude::*;
use threadloop_reports::load::read_results;

fn write(version: Option<&str>) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "threadloop-schema-{}-{}",
        std::process::id(),
        version.unwrap_or("none")
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("results.parquet");
    let mut df = df!("experiment" => ["e"], "cell" => ["c"], "throughput_rps" => [1.0]).unwrap();
    let mut w = ParquetWriter::new(std::fs::File::create(&path).unwrap());
    if let Some(v) = version {
        w = w.with_key_value_metadata(Some(KeyValueMetadata::from_static(vec![(
            threadloop_vocab::schema::VERSION_KEY.to_string(),
            v.to_string(),
        )])));
    }
    w.finish(&mut df).unwrap();
    path
}

#[test]
fn a_newer_major_schema_is_refused_by_name() {
    let major: u32 = threadloop_vocab::schema::VERSION
        .split('.')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    let newer = write(Some(&format!("{}.0", major + 1)));
    let e = read_results(&newer).unwrap_err().to_string();
    assert!(e.contains("results.parquet"), "{e}");
    assert!(e.contains("newer than this build"), "{e}");

    let same = write(Some(&format!("{major}.7")));
    assert_eq!(read_results(&same).unwrap().len(), 1);
    let unversioned = write(None);
    assert_eq!(read_results(&unversioned).unwrap().len(), 1);
}
