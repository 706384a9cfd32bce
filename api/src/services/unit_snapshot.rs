//! The hierarchy of administrative units, held in memory: every version, parents, children in
//! Vietnamese order, and lineage, in one immutable snapshot per generation.
//!
//! Units change a few times a year and are read on almost every request. Every import that
//! changes units bumps the generation (row 2 of `change_counter`, in the import's own
//! transaction, as for the search index); a request reads that one row once, and rebuilds the
//! snapshot only when it moved. Several instances therefore agree within one read of the
//! counter: an import committed on one is seen by the next request on another. Unit fields and
//! relations then resolve with no SQL.

use super::units::{Direction, is_valid_on};
use crate::error::AppResult;
use chrono::NaiveDate;
use entity::admin_unit::{self, Entity as AdminUnit};
use entity::admin_unit_lineage::{self, Entity as Lineage};
use entity::enums::AdminLevel;
use sea_orm::{ConnectionTrait, EntityTrait};
use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};
use tokio::sync::RwLock;

/// A unit version, shared.
pub type Unit = Arc<admin_unit::Model>;

/// A lineage link, shared by its predecessor's and its successor's lists (stored once: the
/// national links are about 19,000).
pub type Link = Arc<LinkRecord>;

/// A lineage link as the snapshot keeps it: the row, with its resolution and source address
/// stored once per distinct text (the national links name about 50 resolutions, and each
/// address is about 100 bytes).
#[derive(Debug)]
pub struct LinkRecord {
    /// The row's id.
    pub id: i64,
    /// The unit before the change.
    pub predecessor_id: i64,
    /// The unit after it.
    pub successor_id: i64,
    /// When the change took effect.
    pub effective_on: NaiveDate,
    /// What happened.
    pub change: entity::enums::LineageChange,
    /// Into how many units the predecessor was split, for a split.
    pub split_count: Option<i32>,
    /// How the link is known.
    pub evidence: Option<entity::enums::LineageEvidence>,
    /// The resolution that made the change.
    pub resolution: Option<Arc<str>>,
    /// Where the resolution is published.
    pub source_url: Option<Arc<str>>,
}

/// The hierarchy at one generation.
pub struct UnitSnapshot {
    /// The generation it was built at.
    pub generation: i64,
    by_id: HashMap<i64, Unit>,
    by_code: HashMap<String, Vec<Unit>>,
    /// Every version of every child, in Vietnamese order (filtered by date when read).
    children: HashMap<i64, Vec<Unit>>,
    /// Provinces, every version, in Vietnamese order.
    provinces: Vec<Unit>,
    successors: HashMap<i64, Vec<Link>>,
    predecessors: HashMap<i64, Vec<Link>>,
}

fn ordered(a: &Unit, b: &Unit) -> std::cmp::Ordering {
    a.sort_key.cmp(&b.sort_key).then(a.id.cmp(&b.id))
}

impl UnitSnapshot {
    fn build(
        generation: i64,
        units: Vec<admin_unit::Model>,
        links: Vec<admin_unit_lineage::Model>,
    ) -> Self {
        let mut by_id = HashMap::with_capacity(units.len());
        let mut by_code: HashMap<String, Vec<Unit>> = HashMap::new();
        let mut children: HashMap<i64, Vec<Unit>> = HashMap::new();
        let mut provinces = Vec::new();
        for u in units {
            let u = Arc::new(u);
            by_id.insert(u.id, u.clone());
            by_code.entry(u.code.clone()).or_default().push(u.clone());
            if let Some(p) = u.parent_id {
                children.entry(p).or_default().push(u.clone());
            }
            if u.level == AdminLevel::Province {
                provinces.push(u);
            }
        }
        for list in children.values_mut() {
            list.sort_by(ordered);
        }
        provinces.sort_by(ordered);
        let mut links = links;
        links.sort_by(|a, b| a.effective_on.cmp(&b.effective_on).then(a.id.cmp(&b.id)));
        let mut successors: HashMap<i64, Vec<Link>> = HashMap::new();
        let mut predecessors: HashMap<i64, Vec<Link>> = HashMap::new();
        let mut texts: std::collections::HashSet<Arc<str>> = std::collections::HashSet::new();
        let mut shared = |t: Option<String>| -> Option<Arc<str>> {
            let t = t?;
            if let Some(known) = texts.get(t.as_str()) {
                return Some(known.clone());
            }
            let fresh: Arc<str> = Arc::from(t);
            texts.insert(fresh.clone());
            Some(fresh)
        };
        for l in links {
            let l = Arc::new(LinkRecord {
                id: l.id,
                predecessor_id: l.predecessor_id,
                successor_id: l.successor_id,
                effective_on: l.effective_on,
                change: l.change,
                split_count: l.split_count,
                evidence: l.evidence,
                resolution: shared(l.resolution),
                source_url: shared(l.source_url),
            });
            successors
                .entry(l.predecessor_id)
                .or_default()
                .push(l.clone());
            predecessors.entry(l.successor_id).or_default().push(l);
        }
        Self {
            generation,
            by_id,
            by_code,
            children,
            provinces,
            successors,
            predecessors,
        }
    }

    /// A unit version by id.
    pub fn unit(&self, id: i64) -> Option<Unit> {
        self.by_id.get(&id).cloned()
    }

    /// A unit version's code.
    pub fn code(&self, id: i64) -> Option<&str> {
        self.by_id.get(&id).map(|u| u.code.as_str())
    }

    /// The unit with this code valid on `date`, optionally of one level.
    pub fn by_code(&self, code: &str, date: NaiveDate, level: Option<AdminLevel>) -> Option<Unit> {
        self.by_code
            .get(code.trim())?
            .iter()
            .find(|u| is_valid_on(u, date) && level.is_none_or(|l| u.level == l))
            .cloned()
    }

    /// The children of a unit valid on `date`, in Vietnamese order.
    pub fn children_of(&self, id: i64, date: NaiveDate) -> Vec<Unit> {
        self.children
            .get(&id)
            .map(|list| {
                list.iter()
                    .filter(|u| is_valid_on(u, date))
                    .cloned()
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The communes of a province valid on `date`, under a district (before July 2025) or
    /// directly under it (after), in Vietnamese order.
    pub fn communes_of_province(&self, id: i64, date: NaiveDate) -> Vec<Unit> {
        let mut out: Vec<Unit> = Vec::new();
        for c in self.children_of(id, date) {
            match c.level {
                AdminLevel::Commune => out.push(c),
                AdminLevel::District => out.extend(
                    self.children_of(c.id, date)
                        .into_iter()
                        .filter(|u| u.level == AdminLevel::Commune),
                ),
                AdminLevel::Province => {}
            }
        }
        out.sort_by(ordered);
        out
    }

    /// Provinces valid on `date`, in Vietnamese order.
    pub fn provinces(&self, date: NaiveDate) -> Vec<Unit> {
        self.provinces
            .iter()
            .filter(|u| is_valid_on(u, date))
            .cloned()
            .collect()
    }

    /// The direct lineage links of a unit, by effective date.
    pub fn lineage(&self, id: i64, direction: Direction) -> &[Link] {
        let map = match direction {
            Direction::Successors => &self.successors,
            Direction::Predecessors => &self.predecessors,
        };
        map.get(&id).map(Vec::as_slice).unwrap_or_default()
    }

    /// Every version of the unit with this code, or those valid on some day of `year`.
    pub fn with_code(&self, code: &str, year: Option<i32>) -> Vec<Unit> {
        let Some(list) = self.by_code.get(code.trim()) else {
            return Vec::new();
        };
        match year {
            None => list.clone(),
            Some(y) => {
                let start = NaiveDate::from_ymd_opt(y, 1, 1).unwrap_or(NaiveDate::MIN);
                let end = NaiveDate::from_ymd_opt(y, 12, 31).unwrap_or(NaiveDate::MAX);
                list.iter()
                    .filter(|u| super::validity::overlaps(u.valid_from, u.valid_to, start, end))
                    .cloned()
                    .collect()
            }
        }
    }

    /// The ids of these units and of every unit below them, any version of each (what a
    /// recursive statement over `parent_id` gives, without the statement).
    pub fn and_below(&self, roots: impl IntoIterator<Item = i64>) -> BTreeSet<i64> {
        let mut out = BTreeSet::new();
        let mut stack: Vec<i64> = roots.into_iter().collect();
        while let Some(id) = stack.pop() {
            if out.insert(id)
                && let Some(children) = self.children.get(&id)
            {
                stack.extend(children.iter().map(|u| u.id));
            }
        }
        out
    }

    /// How many unit versions it holds.
    pub fn len(&self) -> usize {
        self.by_id.len()
    }

    /// Whether it holds none.
    pub fn is_empty(&self) -> bool {
        self.by_id.is_empty()
    }
}

/// The channel a unit import notifies on PostgreSQL, at its commit.
pub const CHANNEL: &str = "platform_unit_generation";

/// How long a snapshot is trusted without reading the generation, while notifications are
/// followed: a safety net for a notification lost without the connection noticing, and for a
/// read replica that was behind when a notification made a request re-read the counter.
const TRUSTED_FOR: Duration = Duration::from_secs(1);

/// Unit imports committed by this process: a cache that has not read the generation since
/// the last one does not trust its snapshot (its own notification may not have arrived yet).
static CHANGED_HERE: AtomicU64 = AtomicU64::new(0);

/// Tells this process's caches that a unit import just committed here.
pub fn changed_here() {
    CHANGED_HERE.fetch_add(1, Ordering::AcqRel);
}

/// The per-process hierarchy.
///
/// Without [`watch`] (SQLite, the command line), every request reads the generation: one
/// statement. With it (the server on PostgreSQL), a request reads none while the listening
/// connection is up, no unit import was notified since the last read, and that read is under
/// [`TRUSTED_FOR`] old; an import on another instance is then seen as soon as its notification
/// arrives (it is sent at the import's commit, so normally before the importing call returns).
#[derive(Default)]
pub struct UnitCache {
    snapshot: RwLock<Option<Arc<UnitSnapshot>>>,
    /// A listening connection is up and has been since the last read of the generation.
    watched: AtomicBool,
    /// An import was notified (or the listener (re)connected) since the last read.
    stale: AtomicBool,
    /// When the generation was last read, in milliseconds since `epoch`.
    read_at: AtomicU64,
    /// [`CHANGED_HERE`] at the last read of the generation.
    changes_seen: AtomicU64,
    epoch: std::sync::OnceLock<Instant>,
}

impl UnitCache {
    fn now_ms(&self) -> u64 {
        let epoch = *self.epoch.get_or_init(Instant::now);
        u64::try_from(epoch.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    /// The snapshot, if it may be served without reading the generation.
    async fn trusted(&self) -> Option<Arc<UnitSnapshot>> {
        if !self.watched.load(Ordering::Acquire)
            || self.stale.load(Ordering::Acquire)
            || self.changes_seen.load(Ordering::Acquire) != CHANGED_HERE.load(Ordering::Acquire)
        {
            return None;
        }
        let age = self
            .now_ms()
            .saturating_sub(self.read_at.load(Ordering::Acquire));
        if u128::from(age) >= TRUSTED_FOR.as_millis() {
            return None;
        }
        self.snapshot.read().await.clone()
    }

    /// The hierarchy as of the latest committed unit import: no statement while it is trusted
    /// (see the type), else one (the generation) while it is current, a rebuild (two more)
    /// when it moved.
    pub async fn current<C: ConnectionTrait>(&self, db: &C) -> AppResult<Arc<UnitSnapshot>> {
        if let Some(s) = self.trusted().await {
            return Ok(s);
        }
        // Cleared before the read: a notification arriving during it marks the next request.
        self.stale.store(false, Ordering::Release);
        self.changes_seen
            .store(CHANGED_HERE.load(Ordering::Acquire), Ordering::Release);
        let started = self.now_ms();
        let generation = super::unit_search::generation(db).await?;
        self.read_at.fetch_max(started, Ordering::AcqRel);
        if let Some(s) = self.snapshot.read().await.as_ref()
            && s.generation == generation
        {
            return Ok(s.clone());
        }
        let mut slot = self.snapshot.write().await;
        if let Some(s) = slot.as_ref()
            && s.generation == generation
        {
            return Ok(s.clone());
        }
        let units = AdminUnit::find().all(db).await?;
        let links = Lineage::find().all(db).await?;
        let fresh = Arc::new(UnitSnapshot::build(generation, units, links));
        *slot = Some(fresh.clone());
        Ok(fresh)
    }
}

/// Follows unit imports through `LISTEN` (PostgreSQL), for as long as the task runs: marks the
/// cache stale on every notification and whenever the connection is (re)established, and
/// stops trusting it while the connection is down (requests then read the generation, as
/// without this task). Reconnects every second after a failure.
pub async fn watch(cache: Arc<UnitCache>, pool: sea_orm::sqlx::PgPool) {
    use sea_orm::sqlx::postgres::PgListener;
    loop {
        if let Ok(mut listener) = PgListener::connect_with(&pool).await
            && listener.listen(CHANNEL).await.is_ok()
        {
            cache.stale.store(true, Ordering::Release);
            cache.watched.store(true, Ordering::Release);
            while let Ok(Some(_)) = listener.try_recv().await {
                cache.stale.store(true, Ordering::Release);
            }
            cache.watched.store(false, Ordering::Release);
            tracing::debug!("unit generation listener lost its connection; reconnecting");
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}
