//! Task names: the ids a pool gives them (a name id travels as a `u16` in a task record; see
//! [`frame`](super::frame)), and the task module's function exports, which decide which names
//! may have one.

use std::collections::HashMap;

use super::Pool;
use crate::sync::lock;

/// The most task names a pool gives ids to: a name id travels as a `u16` (see `frame`).
pub const MAX_TASK_NAMES: usize = 1 << 16;
/// Of those, the most it gives out before a worker has loaded the task module (and reported its
/// exports), when names cannot be checked yet. The rest stays for the module's own exports.
pub const MAX_UNCHECKED_TASK_NAMES: usize = 1 << 12;

/// Why [`Pool::intern`] gave no id.
#[derive(Debug, PartialEq, Eq)]
pub enum NameRefused {
    /// The task module has no function export of that name.
    NotAnExport,
    /// Too many distinct names before the task module's exports were known.
    TooMany,
}

/// The task names of a pool and their ids, and the task module's function exports.
#[derive(Default)]
pub(super) struct Names {
    list: Vec<String>,
    ids: HashMap<String, u32>,
    /// Reported by the first worker that loads the module; `None` until then.
    exports: Option<std::collections::HashSet<String>>,
    export_list: Vec<String>,
}

impl Pool {
    /// The id of a task name (given once per pool, below [`MAX_TASK_NAMES`]). Once the task
    /// module's exports are known, only their names get ids; before, at most
    /// [`MAX_UNCHECKED_TASK_NAMES`] names do (a worker refuses a task whose name turns out not to
    /// be an export). So names from anywhere (request data) never grow the table past the
    /// module's exports, and an id always stands for one name.
    pub fn intern(&self, name: &str) -> std::result::Result<u32, NameRefused> {
        let mut names = lock(&self.names);
        if let Some(&id) = names.ids.get(name) {
            return Ok(id);
        }
        let room = match &names.exports {
            Some(exports) if !exports.contains(name) => return Err(NameRefused::NotAnExport),
            Some(_) => MAX_TASK_NAMES,
            None => MAX_UNCHECKED_TASK_NAMES,
        };
        if names.list.len() >= room {
            return Err(NameRefused::TooMany);
        }
        let id = names.list.len() as u32;
        names.list.push(name.to_owned());
        names.ids.insert(name.to_owned(), id);
        Ok(id)
    }

    /// The task name with this id.
    pub fn name_of(&self, id: u32) -> Option<String> {
        lock(&self.names).list.get(id as usize).cloned()
    }

    /// Records the task module's function export names (reported by each worker that loads it).
    pub fn set_exports(&self, exports: Vec<String>) {
        let mut names = lock(&self.names);
        names.exports = Some(exports.iter().cloned().collect());
        names.export_list = exports;
    }

    /// The task module's function exports (empty until a worker has loaded the module).
    pub fn exports(&self) -> Vec<String> {
        lock(&self.names).export_list.clone()
    }
}
