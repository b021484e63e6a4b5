//! Compact, interned storage of records: each column keeps every distinct value once and
//! a `u32` per row, so a million rows of a few columns fit in a few hundred megabytes.

use std::collections::hash_map::DefaultHasher;
use std::collections::{BTreeMap, HashMap};
use std::hash::{Hash, Hasher};

use super::LinkError;

/// A record as field name → value, for callers that do not build a [`Table`] column by column.
pub type Record = BTreeMap<String, String>;

/// Distinct strings, each stored once; id 0 is the empty string.
#[derive(Debug, Clone)]
pub struct Pool {
    buf: String,
    ends: Vec<u32>,
    index: HashMap<u64, u32>,
}

impl Default for Pool {
    fn default() -> Self {
        Pool {
            buf: String::new(),
            ends: vec![0],
            index: HashMap::new(),
        }
    }
}

pub(crate) fn hash_str(s: &str) -> u64 {
    let mut h = DefaultHasher::new();
    s.hash(&mut h);
    h.finish()
}

impl Pool {
    /// The id of `s`, adding it when new.
    pub fn intern(&mut self, s: &str) -> u32 {
        if s.is_empty() {
            return 0;
        }
        let h = hash_str(s);
        if let Some(&id) = self.index.get(&h) {
            if self.get(id) == s {
                return id;
            }
            // A 64-bit hash collision: store the value again under a new id.
            return self.push(s);
        }
        let id = self.push(s);
        self.index.insert(h, id);
        id
    }

    fn push(&mut self, s: &str) -> u32 {
        self.buf.push_str(s);
        self.ends.push(self.buf.len() as u32);
        (self.ends.len() - 1) as u32
    }

    pub fn get(&self, id: u32) -> &str {
        let id = id as usize;
        if id == 0 {
            return "";
        }
        &self.buf[self.ends[id - 1] as usize..self.ends[id] as usize]
    }

    /// Number of distinct values, the empty string included.
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ends.len() == 1
    }
}

/// Rows of string values under named columns; a missing value is the empty string.
#[derive(Debug, Clone, Default)]
pub struct Table {
    columns: Vec<String>,
    pools: Vec<Pool>,
    cells: Vec<Vec<u32>>,
    rows: usize,
}

impl Table {
    pub fn new<S: Into<String>>(columns: impl IntoIterator<Item = S>) -> Table {
        let columns: Vec<String> = columns.into_iter().map(Into::into).collect();
        Table {
            pools: vec![Pool::default(); columns.len()],
            cells: vec![Vec::new(); columns.len()],
            columns,
            rows: 0,
        }
    }

    /// Builds a table from records; the columns are the union of their field names.
    pub fn from_records(records: &[Record]) -> Table {
        let mut names: Vec<&String> = records.iter().flat_map(|r| r.keys()).collect();
        names.sort_unstable();
        names.dedup();
        let mut t = Table::new(names.iter().map(|s| s.to_string()));
        for r in records {
            let row: Vec<&str> = t
                .columns
                .iter()
                .map(|c| r.get(c).map(String::as_str).unwrap_or(""))
                .collect();
            // The row has exactly one value per column.
            let _ = t.push_row(&row);
        }
        t
    }

    /// Appends a row; values are trimmed. Fewer values than columns leave the rest empty.
    pub fn push_row<S: AsRef<str>>(&mut self, values: &[S]) -> Result<(), LinkError> {
        if values.len() > self.columns.len() {
            return Err(LinkError::Row(format!(
                "row {} has {} values for {} columns",
                self.rows + 1,
                values.len(),
                self.columns.len()
            )));
        }
        for (c, cells) in self.cells.iter_mut().enumerate() {
            let v = values.get(c).map(|v| v.as_ref().trim()).unwrap_or("");
            cells.push(self.pools[c].intern(v));
        }
        self.rows += 1;
        Ok(())
    }

    pub fn len(&self) -> usize {
        self.rows
    }

    pub fn is_empty(&self) -> bool {
        self.rows == 0
    }

    pub fn columns(&self) -> &[String] {
        &self.columns
    }

    pub fn column(&self, name: &str) -> Option<usize> {
        self.columns.iter().position(|c| c == name)
    }

    pub fn value(&self, row: usize, column: usize) -> &str {
        self.pools[column].get(self.cells[column][row])
    }

    /// The interned id of a cell (equal ids mean equal values within this table).
    pub(crate) fn cell(&self, row: usize, column: usize) -> u32 {
        self.cells[column][row]
    }

    pub(crate) fn pool(&self, column: usize) -> &Pool {
        &self.pools[column]
    }
}
