//! A commune's campaigns (officials and administrators): the list with each one's
//! coverage, opening one, and closing the open one, which rolls every hamlet's log
//! over (`service::campaigns`); and one hamlet's log rolled over by hand ("compact").

use tungnha_web::campaigns::{CampaignLine, CampaignTyped, CampaignsPage};

use super::*;
use crate::http::web::DoneQuery;
use crate::records::Campaign;
use crate::service::access;
use crate::service::campaigns::{self, CampaignForm};
use crate::service::error::Field;

/// A campaign as a dashboard's shortcut shows it: no figures.
pub(crate) fn campaign_chip(commune: &Commune, c: &Campaign, today: &str) -> CampaignLine {
    let label = |code: &String| {
        commune
            .catalogue
            .topics
            .iter()
            .find(|t| &t.code == code)
            .map_or_else(|| code.clone(), |t| t.label.clone())
    };
    CampaignLine {
        number: c.number,
        name: c.name.clone(),
        starts: c.starts.clone(),
        last_day: c.last_day(today),
        ends: c.ends.clone(),
        topics: c.topics.iter().map(label).collect(),
        target: c.target,
        open: c.is_open(),
        covered: 0,
        to_cover: 0,
    }
}

/// A campaign with its coverage (to its target when it has one), and each hamlet's.
pub(crate) fn campaign_line(
    state: &AppState,
    commune: &Commune,
    c: &Campaign,
    now: i64,
) -> Result<(CampaignLine, Vec<campaigns::CampaignHamlet>), PageError> {
    let hamlets = campaigns::figures(state, c)?;
    let mut line = campaign_chip(commune, c, &vn_day(now));
    line.covered = hamlets.iter().map(|h| h.covered).sum();
    line.to_cover = c.target.unwrap_or_else(|| hamlets.iter().map(|h| h.to_cover).sum());
    Ok((line, hamlets))
}

/// The campaigns page of `commune`, newest first.
fn campaigns_view(
    state: &AppState,
    commune: &Commune,
    notice: Option<&'static str>,
) -> Result<CampaignsPage, PageError> {
    let now = crate::now_ms();
    let mut lines = Vec::new();
    for c in state.store.campaigns_of(&commune.id)?.iter().rev() {
        lines.push(campaign_line(state, commune, c, now)?.0);
    }
    Ok(CampaignsPage {
        commune_id: commune.id.to_string(),
        commune_name: commune.name.clone(),
        campaigns: lines,
        topics: commune.catalogue.topics.clone(),
        notice,
        ..CampaignsPage::default()
    })
}

/// A commune the viewer may run campaigns for.
fn campaign_commune(state: &AppState, v: &Viewer, id: &str) -> Result<Commune, PageError> {
    let commune = managed_commune(state, v, id)?;
    if !access::may_run_campaigns(v.user()?, &commune.id) {
        return Err(PageError::Forbidden);
    }
    Ok(commune)
}

pub(crate) async fn campaigns_page(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
    Query(q): Query<DoneQuery>,
) -> Response {
    viewer
        .run(move |v| {
            let commune = campaign_commune(&state, v, &id)?;
            let t = v.lang.texts();
            let notice = match q.done.as_str() {
                "opened" => Some(t.campaign_opened),
                "closed" => Some(t.campaign_closed),
                _ => None,
            };
            let view = campaigns_view(&state, &commune, notice)?;
            Ok(tungnha_web::campaigns::campaigns(&v.chrome(), &view).into_response())
        })
        .await
}

/// Opens a campaign; a form that cannot be is shown again (422) with what was typed
/// and the message beside its field.
pub(crate) async fn open_campaign(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Response {
    viewer
        .run(move |v| {
            let field = |name: &str| {
                fields.iter().find(|(k, _)| k == name).map(|(_, val)| val.clone()).unwrap_or_default()
            };
            v.check_csrf(&field("csrf"))?;
            let commune = campaign_commune(&state, v, &id)?;
            let form = CampaignForm {
                name: field("name"),
                starts: field("starts"),
                ends: field("ends"),
                topics: fields
                    .iter()
                    .filter(|(k, _)| k == "topic")
                    .map(|(_, val)| val.clone())
                    .take(100)
                    .collect(),
                target: field("target"),
            };
            let by = v.user()?.id.to_string();
            match campaigns::open(state.store(), &by, &commune, &form, crate::now_ms()) {
                Ok(_) => Ok(see_other(&format!("/communes/{}/campaigns?done=opened", url_part(&id)))),
                Err(ServiceError::Invalid(i)) => {
                    let t = v.lang.texts();
                    let (name, message) = match i.field {
                        Field::Name => {
                            ("name", required_name_problem(t, &form.name).unwrap_or(t.err_too_long))
                        }
                        Field::Day => ("day", t.err_campaign_day),
                        Field::Target => ("target", t.err_campaign_target),
                        Field::Catalogue => ("catalogue", t.err_code),
                        _ => ("campaign", t.campaign_one_open),
                    };
                    let cut = |s: &str| s.chars().take(MAX_TEXT_CHARS).collect::<String>();
                    let mut view = campaigns_view(&state, &commune, None)?;
                    view.errors.insert(name, message);
                    view.typed = CampaignTyped {
                        name: cut(&form.name),
                        starts: cut(&form.starts),
                        ends: cut(&form.ends),
                        topics: form.topics,
                        target: cut(&form.target),
                    };
                    Ok(unprocessable(tungnha_web::campaigns::campaigns(&v.chrome(), &view)))
                }
                Err(e) => Err(e.into()),
            }
        })
        .await
}

#[derive(Debug, Deserialize)]
pub(crate) struct CloseForm {
    #[serde(default)]
    csrf: String,
}

/// Closes the open campaign, rolling every hamlet's log over.
pub(crate) async fn close_campaign(
    State(state): State<AppState>,
    viewer: Viewer,
    Path((id, number)): Path<(String, u32)>,
    Form(form): Form<CloseForm>,
) -> Response {
    viewer
        .run(move |v| {
            v.check_csrf(&form.csrf)?;
            let commune = campaign_commune(&state, v, &id)?;
            let by = v.user()?.id.to_string();
            match campaigns::close(&state, &by, &commune, number, crate::now_ms()) {
                Ok(_) => Ok(see_other(&format!("/communes/{}/campaigns?done=closed", url_part(&id)))),
                Err(ServiceError::Invalid(_)) => {
                    let mut view = campaigns_view(&state, &commune, None)?;
                    view.errors.insert("campaign", v.lang.texts().err_no_open_campaign);
                    Ok(unprocessable(tungnha_web::campaigns::campaigns(&v.chrome(), &view)))
                }
                Err(e) => Err(e.into()),
            }
        })
        .await
}

/// Rolls one hamlet's log over ("compact"), for its commune's officials.
pub(crate) async fn roll_over_hamlet(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
    Form(form): Form<CloseForm>,
) -> Response {
    viewer
        .run(move |v| {
            v.check_csrf(&form.csrf)?;
            let hamlet = super::super::visible_hamlet(&state, v, &id)?;
            if !access::may_run_campaigns(v.user()?, &hamlet.commune) {
                return Err(PageError::Forbidden);
            }
            let by = v.user()?.id.to_string();
            let done = campaigns::compact(&state, &by, &hamlet.id, "compact", crate::now_ms())?;
            let outcome = if done.is_some() { "rolled" } else { "nothing" };
            Ok(see_other(&format!("/hamlets/{}?done={outcome}", url_part(&id))))
        })
        .await
}
