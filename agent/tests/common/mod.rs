//! Shared test helpers: copying fixtures into temp dirs and loading `.sql`
//! dumps into real SQLite databases.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

pub fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests")
        .join("fixtures")
}

/// Recursively copies `src` into `dst`.
pub fn copy_tree(src: &Path, dst: &Path) {
    std::fs::create_dir_all(dst).expect("mkdir");
    for e in std::fs::read_dir(src).expect("read_dir") {
        let e = e.expect("entry");
        let to = dst.join(e.file_name());
        if e.file_type().expect("type").is_dir() {
            copy_tree(&e.path(), &to);
        } else {
            std::fs::copy(e.path(), &to).expect("copy");
            let mut perm = std::fs::metadata(&to).expect("meta").permissions();
            #[allow(clippy::permissions_set_readonly_false)]
            perm.set_readonly(false);
            std::fs::set_permissions(&to, perm).expect("chmod");
        }
    }
}

/// Builds a SQLite database at `db` from a `.sql` dump.
pub fn load_sql(db: &Path, sql_file: &Path) {
    let sql = std::fs::read_to_string(sql_file).expect("read sql");
    let conn = rusqlite::Connection::open(db).expect("open db");
    conn.execute_batch(&sql).expect("load sql");
}
