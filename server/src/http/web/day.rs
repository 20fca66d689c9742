//! The day's report pages ("Báo cáo hôm nay") and their image cards: a team's (its
//! leaders, and whoever may read its commune), a commune's (its officials, and its
//! province's officers) and a province's (its officers). `?day=YYYY-MM-DD` chooses the
//! day, today in Vietnam by default; the card is the same report drawn as SVG and
//! rasterised to PNG here with resvg, in Noto Sans from the system's fonts.

use std::collections::BTreeMap;
use std::sync::{Arc, OnceLock};

use axum::extract::{Path, Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use chrono::NaiveDate;
use serde::Deserialize;
use tungnha_client_core::catalogue::Catalogue;
use tungnha_client_core::domain::vn_day;
use tungnha_web::day_report::{DayReportView, WalkInDay, card_svg, page_of};

use super::pages::readable_commune;
use super::{PageError, PageResult, Viewer};
use crate::AppState;
use crate::service::access;
use crate::service::day_report::{self, DayReport, Scope};

#[derive(Debug, Deserialize)]
pub(crate) struct DayQuery {
    #[serde(default)]
    day: String,
}

/// What a handler answers with: the page, or its card.
#[derive(Debug, Clone, Copy)]
enum Shape {
    Page,
    Card,
}

/// The day asked for, or a clear refusal.
fn day_of(q: &DayQuery) -> Result<String, PageError> {
    Ok(day_report::chosen_day(&q.day, crate::now_ms())?)
}

/// The view of a report, its account kinds labelled from `catalogue`.
fn view_of(report: &DayReport, path: String, catalogue: &Catalogue) -> DayReportView {
    let (title, place) = match &report.scope {
        Scope::Team(team, commune) => (team.name.clone(), Some(commune.name.clone())),
        Scope::Commune(commune) => (commune.name.clone(), None),
        Scope::Province(province) => (province.name.clone(), None),
    };
    let day = NaiveDate::parse_from_str(&report.day, "%Y-%m-%d").unwrap_or_default();
    let next = day.succ_opt().map(|d| d.to_string()).filter(|d| *d <= vn_day(crate::now_ms()));
    let w = &report.figures.work;
    DayReportView {
        title,
        place,
        path,
        day: report.day.clone(),
        prev: day.pred_opt().map(|d| d.to_string()).unwrap_or_default(),
        next,
        visits: report.figures.visits,
        guided: w.guided,
        people: w.people,
        accounts: in_catalogue_order(catalogue, &w.accounts),
        filed: w.filed,
        covered: report.figures.covered,
        covered_to_date: report.to_date.covered,
        to_cover: report.to_date.to_cover,
        accounts_to_date: report.to_date.accounts.values().sum(),
        filed_to_date: report.to_date.filed,
        // A team's report speaks of counters only when its people helped walk-ins.
        walkins: (!matches!(report.scope, Scope::Team(..)) || w.walkins > 0).then_some(WalkInDay {
            count: w.walkins,
            people: w.walkin_people,
            accounts: w.walkin_accounts,
            filed: w.walkin_filed,
        }),
        campaign: None,
    }
}

/// Accounts per kind, labelled, in the order the commune's catalogue lists its kinds
/// (kinds it no longer lists last, by code).
fn in_catalogue_order(catalogue: &Catalogue, accounts: &BTreeMap<String, u64>) -> Vec<(String, u64)> {
    let position =
        |code: &str| catalogue.account_kinds.iter().position(|e| e.code == code).unwrap_or(usize::MAX);
    let mut kinds: Vec<(&String, &u64)> = accounts.iter().collect();
    kinds.sort_by_key(|(code, _)| position(code));
    kinds.into_iter().map(|(code, n)| (catalogue.account_label(code), *n)).collect()
}

/// The page or the card of a view.
fn answer(viewer: &Viewer, view: &DayReportView, shape: Shape) -> PageResult {
    match shape {
        Shape::Page => Ok(page_of(&viewer.chrome(), view).into_response()),
        Shape::Card => {
            let png = rasterise(&card_svg(viewer.lang, view))?;
            Ok(([(header::CONTENT_TYPE, "image/png"), (header::CACHE_CONTROL, "no-store")], png)
                .into_response())
        }
    }
}

fn commune_report(state: &AppState, v: &Viewer, id: &str, q: &DayQuery, shape: Shape) -> PageResult {
    let commune = readable_commune(state, v, id)?;
    let day = day_of(q)?;
    let path = format!("/communes/{}/day", tungnha_web::layout::url_part(commune.id.as_str()));
    let catalogue = commune.catalogue.clone();
    let campaign = crate::service::campaigns::on_day(state, &commune, None, &day, crate::now_ms())?;
    let report = day_report::of_commune(state.store(), commune, &day)?;
    let mut view = view_of(&report, path, &catalogue);
    view.campaign = campaign.map(|(c, covered, to_cover)| (c.name, covered, to_cover));
    answer(v, &view, shape)
}

fn team_report(
    state: &AppState,
    v: &Viewer,
    (id, team): (&str, &str),
    q: &DayQuery,
    shape: Shape,
) -> PageResult {
    let user = v.user()?;
    let commune = tungnha_client_core::CommuneId::parse(id).map_err(|_| PageError::NotFound)?;
    let commune = state.store.commune(&commune)?.ok_or(PageError::Forbidden)?;
    let team = day_report::team_of(state.store(), &commune.id, team)?.ok_or(PageError::Forbidden)?;
    if !access::may_read_team(user, &team, &commune) {
        return Err(PageError::Forbidden);
    }
    let day = day_of(q)?;
    let path = format!(
        "/communes/{}/teams/{}/day",
        tungnha_web::layout::url_part(commune.id.as_str()),
        tungnha_web::layout::url_part(team.id.as_str())
    );
    let catalogue = commune.catalogue.clone();
    let campaign =
        crate::service::campaigns::on_day(state, &commune, Some(&team.hamlets), &day, crate::now_ms())?;
    let report = day_report::of_team(state.store(), team, commune, &day)?;
    let mut view = view_of(&report, path, &catalogue);
    view.campaign = campaign.map(|(c, covered, to_cover)| (c.name, covered, to_cover));
    answer(v, &view, shape)
}

fn province_report(state: &AppState, v: &Viewer, id: &str, q: &DayQuery, shape: Shape) -> PageResult {
    let province = super::pages::readable_province(state, v, id)?;
    let day = day_of(q)?;
    let path = format!("/provinces/{}/day", tungnha_web::layout::url_part(province.id.as_str()));
    let report = day_report::of_province(state.store(), province, &day)?;
    // Communes may rename their account kinds; the province reads the national defaults.
    answer(v, &view_of(&report, path, &Catalogue::default()), shape)
}

/// Serves a report as its page, or (`CARD`) as its card, waiting for a turn to draw it.
async fn serve<const CARD: bool>(
    viewer: Viewer,
    work: impl FnOnce(&Viewer, Shape) -> PageResult + Send + 'static,
) -> Response {
    let _turn = if CARD { card_turn().await } else { None };
    let shape = if CARD { Shape::Card } else { Shape::Page };
    viewer.run(move |v| work(v, shape)).await
}

/// A commune's report: `/communes/{id}/day` and, with `CARD`, `…/day.png`.
pub(crate) async fn commune<const CARD: bool>(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
    Query(q): Query<DayQuery>,
) -> Response {
    serve::<CARD>(viewer, move |v, shape| commune_report(&state, v, &id, &q, shape)).await
}

/// A team's report: `/communes/{id}/teams/{team}/day` and, with `CARD`, `…/day.png`.
pub(crate) async fn team<const CARD: bool>(
    State(state): State<AppState>,
    viewer: Viewer,
    Path((id, team)): Path<(String, String)>,
    Query(q): Query<DayQuery>,
) -> Response {
    serve::<CARD>(viewer, move |v, shape| team_report(&state, v, (&id, &team), &q, shape)).await
}

/// A province's report: `/provinces/{id}/day` and, with `CARD`, `…/day.png`.
pub(crate) async fn province<const CARD: bool>(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
    Query(q): Query<DayQuery>,
) -> Response {
    serve::<CARD>(viewer, move |v, shape| province_report(&state, v, &id, &q, shape)).await
}

/// Cards drawn at once, server-wide: drawing one takes ~55 ms of CPU, so a flood of
/// card requests waits its turn instead of taking every core.
static CARDS: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(2);

/// Waits for a turn to draw a card (the semaphore is never closed).
async fn card_turn() -> Option<tokio::sync::SemaphorePermit<'static>> {
    CARDS.acquire().await.ok()
}

/// Where Debian's `fonts-noto-core` puts Noto Sans (`scripts/setup.sh` installs it).
const NOTO: &str = "/usr/share/fonts/truetype/noto";

/// The fonts cards are drawn with, loaded once: Noto Sans (which has every Vietnamese
/// letter and tone mark), or whatever the system has when it is missing.
fn fonts() -> Arc<resvg::usvg::fontdb::Database> {
    static FONTS: OnceLock<Arc<resvg::usvg::fontdb::Database>> = OnceLock::new();
    FONTS
        .get_or_init(|| {
            let mut db = resvg::usvg::fontdb::Database::new();
            for file in ["NotoSans-Regular.ttf", "NotoSans-Bold.ttf"] {
                if db.load_font_file(std::path::Path::new(NOTO).join(file)).is_err() {
                    tracing::warn!(file, "a card font is missing; install fonts-noto-core");
                }
            }
            if db.is_empty() {
                db.load_system_fonts();
            }
            Arc::new(db)
        })
        .clone()
}

/// An SVG card as PNG, at twice its size for phone screens.
fn rasterise(svg: &str) -> Result<Vec<u8>, PageError> {
    let options = resvg::usvg::Options { fontdb: fonts(), ..resvg::usvg::Options::default() };
    let tree = resvg::usvg::Tree::from_str(svg, &options).map_err(PageError::internal)?;
    let size = tree.size().to_int_size();
    let mut pixmap = resvg::tiny_skia::Pixmap::new(size.width() * 2, size.height() * 2)
        .ok_or_else(|| PageError::internal("the card has no size"))?;
    resvg::render(&tree, resvg::tiny_skia::Transform::from_scale(2.0, 2.0), &mut pixmap.as_mut());
    pixmap.encode_png().map_err(PageError::internal)
}

#[cfg(test)]
mod tests {
    use tungnha_web::Lang;

    use super::*;

    #[test]
    fn a_card_is_drawn_with_its_vietnamese_letters() {
        let view = DayReportView {
            title: "Tổ công nghệ số ấp Đông".into(),
            day: "2026-12-02".into(),
            visits: 3,
            ..DayReportView::default()
        };
        let png = rasterise(&card_svg(Lang::Vi, &view)).expect("drawn");
        assert!(png.starts_with(b"\x89PNG"), "a PNG");
        assert!(
            fonts().faces().any(|f| f.families.iter().any(|(name, _)| name == "Noto Sans")),
            "Noto Sans loaded"
        );
    }
}
