//! A commune's campaigns (đợt, chiến dịch): an official opens one (name, first day,
//! planned end, topics in focus, a target) and closes it; closing rolls every hamlet's
//! and counter's log over (`rollover`), so the campaign's visits leave what devices
//! hold and a hamlet's syncs cost what they cost in week one. Figures come all time
//! (the stored coverage) or per campaign: the households covered by a visit during
//! its days (`CoverageLedger::covered_between`), whatever came before.

use tungnha_client_core::domain::{vn_day, vn_day_start};
use tungnha_client_core::rules::text_fault;
use tungnha_client_core::{HamletId, coverage::to_cover};

use crate::AppState;
use crate::cache::lock;
use crate::records::{Campaign, Commune};
use crate::service::ServiceError;
use crate::service::audit::audit;
use crate::service::error::{Field, invalid};
use crate::service::rollover::{self, RolledOver};
use crate::store::Store;

/// The longest campaign name.
pub const MAX_NAME_CHARS: usize = 120;
/// The most households a campaign's target may name.
pub const MAX_TARGET: u64 = 10_000_000;

/// A campaign as an official fills in the form.
#[derive(Debug, Clone, Default)]
pub struct CampaignForm {
    /// Its name.
    pub name: String,
    /// Its first day (`YYYY-MM-DD`; today when empty).
    pub starts: String,
    /// Its planned last day (`YYYY-MM-DD`), or empty.
    pub ends: String,
    /// Topic codes in focus.
    pub topics: Vec<String>,
    /// Households to cover, or empty.
    pub target: String,
}

/// The furthest ahead a campaign may be planned to start or end, in days.
pub const MAX_DAYS_AHEAD: i64 = 366;

/// A day typed in a form, checked and written as days are compared
/// (`YYYY-MM-DD`, zero-padded): from 2020 to a year from today.
fn day(text: &str, now: i64) -> Result<String, ServiceError> {
    let text = text.trim();
    let bad = || {
        invalid(
            Field::Day,
            format!(
                "“{}” is not a day from 2020 to a year from today (YYYY-MM-DD)",
                text.chars().take(20).collect::<String>()
            ),
        )
    };
    let date = chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d").map_err(|_| bad())?;
    let written = date.format("%Y-%m-%d").to_string();
    match vn_day_start(&written) {
        Some(ms)
            if ms >= tungnha_client_core::rules::MIN_TIME_MS && ms <= now + MAX_DAYS_AHEAD * 86_400_000 =>
        {
            Ok(written)
        }
        _ => Err(bad()),
    }
}

/// Opens a campaign for `commune`: refused while another is open, and with a reason
/// naming the field for a name, day, topic or target that cannot be.
pub fn open(
    store: &dyn Store,
    by: &str,
    commune: &Commune,
    form: &CampaignForm,
    now: i64,
) -> Result<Campaign, ServiceError> {
    let campaigns = store.campaigns_of(&commune.id)?;
    if let Some(open) = campaigns.iter().find(|c| c.is_open()) {
        return Err(invalid(
            Field::Campaign,
            format!("campaign {} “{}” is still open; close it first", open.number, open.name),
        ));
    }
    let name = form.name.trim();
    if let Some(fault) = text_fault(name, true) {
        return Err(invalid(Field::Name, format!("the name {fault}")));
    }
    if name.chars().count() > MAX_NAME_CHARS {
        return Err(invalid(Field::Name, format!("the name is longer than {MAX_NAME_CHARS} characters")));
    }
    let today = vn_day(now);
    let starts = if form.starts.trim().is_empty() { today.clone() } else { day(&form.starts, now)? };
    // Campaigns follow one another: one cannot start before the last one ended.
    if let Some(last) = campaigns.last()
        && starts < last.last_day(&today)
    {
        return Err(invalid(
            Field::Day,
            format!("it cannot start before {}, when campaign {} ended", last.last_day(&today), last.number),
        ));
    }
    let ends = match form.ends.trim() {
        "" => None,
        text => Some(day(text, now)?),
    };
    if ends.as_ref().is_some_and(|e| *e < starts) {
        return Err(invalid(Field::Day, "the planned end is before the first day"));
    }
    let mut topics = Vec::new();
    for code in &form.topics {
        if !commune.catalogue.topics.iter().any(|t| &t.code == code) {
            return Err(invalid(
                Field::Catalogue,
                format!("“{}” is not a topic of the commune", code.chars().take(40).collect::<String>()),
            ));
        }
        if !topics.contains(code) {
            topics.push(code.clone());
        }
    }
    let target = match form.target.trim() {
        "" => None,
        text => match text.parse::<u64>() {
            Ok(n) if (1..=MAX_TARGET).contains(&n) => Some(n),
            _ => {
                return Err(invalid(
                    Field::Target,
                    format!("the target must be a number from 1 to {MAX_TARGET}"),
                ));
            }
        },
    };
    let campaign = Campaign {
        number: u32::try_from(campaigns.len() + 1).unwrap_or(u32::MAX),
        commune: commune.id.clone(),
        name: name.to_owned(),
        starts,
        ends,
        topics,
        target,
        opened_by: by.to_owned(),
        opened_at: now,
        closed_at: None,
        closed_by: None,
    };
    store.put_campaign(&campaign)?;
    audit(
        store,
        by,
        Some(&commune.id),
        "campaign_open",
        format!("{} “{}” from {}", campaign.number, campaign.name, campaign.starts),
    )?;
    Ok(campaign)
}

/// What closing a campaign did.
#[derive(Debug, Clone)]
pub struct Closed {
    /// The campaign, closed.
    pub campaign: Campaign,
    /// Each hamlet or counter rolled over (those with no visit had nothing to move).
    pub rolled: Vec<(HamletId, RolledOver)>,
}

/// Closes `commune`'s open campaign `number`: rolls every hamlet's and counter's log
/// over to its successor, then records it closed. Closing again after a failure
/// midway rolls over only what still holds visits.
pub fn close(
    state: &AppState,
    by: &str,
    commune: &Commune,
    number: u32,
    now: i64,
) -> Result<Closed, ServiceError> {
    let store = state.store();
    let mut campaign = store
        .campaigns_of(&commune.id)?
        .into_iter()
        .find(|c| c.number == number)
        .ok_or_else(|| invalid(Field::Campaign, format!("the commune has no campaign {number}")))?;
    if !campaign.is_open() {
        return Err(invalid(Field::Campaign, format!("campaign {number} is closed already")));
    }
    let why = format!("campaign {} “{}” closed", campaign.number, campaign.name);
    let mut rolled = Vec::new();
    for h in store.hamlets_of(&commune.id)? {
        if let Some(done) = rollover::roll_over(state, by, &h.id, &why, None, now)? {
            rolled.push((h.id, done));
        }
    }
    campaign.closed_at = Some(now);
    campaign.closed_by = Some(by.to_owned());
    store.put_campaign(&campaign)?;
    let visits: usize = rolled.iter().map(|(_, r)| r.visits).sum();
    audit(
        store,
        by,
        Some(&commune.id),
        "campaign_close",
        format!(
            "{} “{}”: {} logs rolled over, {visits} visits to history",
            campaign.number,
            campaign.name,
            rolled.len()
        ),
    )?;
    Ok(Closed { campaign, rolled })
}

/// Compacts one hamlet's log by hand: rolls it over, keeping in the successor the
/// visits of the campaign open now (if one is), so that its volunteers see what they
/// did in it; what came before goes to the history. `None`: nothing to move.
pub fn compact(
    state: &AppState,
    by: &str,
    hamlet: &HamletId,
    why: &str,
    now: i64,
) -> Result<Option<RolledOver>, ServiceError> {
    let store = state.store();
    let record = store.hamlet(hamlet)?.ok_or_else(|| ServiceError::NotFound(format!("hamlet {hamlet}")))?;
    let open = store.campaigns_of(&record.commune)?.into_iter().find(Campaign::is_open);
    let keep_since = match &open {
        Some(c) => Some(window(store, c)?.0),
        None => None,
    };
    rollover::roll_over(state, by, hamlet, why, keep_since, now)
}

/// One hamlet's figures in a campaign.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CampaignHamlet {
    /// The hamlet.
    pub hamlet: HamletId,
    /// Households covered by a visit during the campaign.
    pub covered: u64,
    /// Households to cover (`coverage::to_cover`).
    pub to_cover: u64,
}

/// The times a campaign counts visits from and until (exclusive): from its first day,
/// or from the moment the campaign before it closed when that was later the same day,
/// until the moment it closed (its logs rolled over then), or for as long as it is open.
pub fn window(store: &dyn Store, campaign: &Campaign) -> Result<(i64, i64), ServiceError> {
    let previous = store
        .campaigns_of(&campaign.commune)?
        .into_iter()
        .filter(|c| c.number < campaign.number)
        .filter_map(|c| c.closed_at)
        .max()
        .unwrap_or(i64::MIN);
    let from = vn_day_start(&campaign.starts).unwrap_or(0).max(previous);
    Ok((from, campaign.closed_at.unwrap_or(i64::MAX)))
}

/// A campaign's figures: each hamlet's households covered during it (`window`), from
/// the cached ledgers (every campaign's visits are in them, history included).
pub fn figures(state: &AppState, campaign: &Campaign) -> Result<Vec<CampaignHamlet>, ServiceError> {
    figures_until(state, campaign, i64::MAX)
}

/// The campaign a commune was running on `day` (its first day to its last), with the
/// households covered in it to the end of that day, and those to cover (its target
/// when it has one): what the commune's day's report tells of it. With `team`'s
/// hamlets, for a team's report: theirs only, of the households they are to cover.
pub fn on_day(
    state: &AppState,
    commune: &Commune,
    team: Option<&[HamletId]>,
    day: &str,
    now: i64,
) -> Result<Option<(Campaign, u64, u64)>, ServiceError> {
    let today = vn_day(now);
    let Some(campaign) = state
        .store()
        .campaigns_of(&commune.id)?
        .into_iter()
        .rev()
        .find(|c| c.starts.as_str() <= day && day <= c.last_day(&today).as_str())
    else {
        return Ok(None);
    };
    let end_of_day = vn_day_start(day).map_or(i64::MAX, |d| d + 86_400_000);
    let mut hamlets = figures_until(state, &campaign, end_of_day)?;
    if let Some(team) = team {
        hamlets.retain(|h| team.contains(&h.hamlet));
    }
    let covered = hamlets.iter().map(|h| h.covered).sum();
    let all: u64 = hamlets.iter().map(|h| h.to_cover).sum();
    let to_cover = if team.is_some() { all } else { campaign.target.unwrap_or(all) };
    Ok(Some((campaign, covered, to_cover)))
}

/// `figures`, counting visits made before `until` only.
fn figures_until(
    state: &AppState,
    campaign: &Campaign,
    until: i64,
) -> Result<Vec<CampaignHamlet>, ServiceError> {
    let store = state.store();
    let (from, end) = window(store, campaign)?;
    let until = until.min(end);
    let mut out = Vec::new();
    for h in store.hamlets_of(&campaign.commune)?.into_iter().filter(|h| !h.is_counter()) {
        let (covered, listed) = match state.logs.get(store, &h.id)? {
            Some(entry) => lock(&entry).ledger.covered_between(from, until),
            None => (0, 0),
        };
        out.push(CampaignHamlet { to_cover: to_cover(h.target_households, listed), hamlet: h.id, covered });
    }
    Ok(out)
}

/// A commune's campaign by number, for someone who may read the commune's figures.
pub fn chosen(store: &dyn Store, commune: &Commune, number: &str) -> Result<Option<Campaign>, ServiceError> {
    let Ok(number) = number.trim().parse::<u32>() else { return Ok(None) };
    Ok(store.campaigns_of(&commune.id)?.into_iter().find(|c| c.number == number))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_are_written_as_they_are_compared_and_bounded() {
        let now = vn_day_start("2026-12-02").expect("a day");
        assert_eq!(
            day(" 2026-1-5 ", now).expect("a day"),
            "2026-01-05",
            "zero-padded, so days compare as text"
        );
        assert_eq!(day("2027-12-02", now).expect("a year ahead"), "2027-12-02");
        for bad in ["2027-12-04", "2019-12-31", "2026-02-30", "ngày mai", ""] {
            assert!(day(bad, now).is_err(), "{bad}");
        }
    }
}
