//! The table of every route the server serves, with who may use it (`ROUTES`), and
//! `Routes`, the router every area registers through, so that what is served and
//! what is tabled are held against each other.
//!
//! The table says, for every route and method, which principals may use it; the
//! decisions themselves are `service::access`'s. `served()` lists what is really
//! served, and the authorization test (`tests/tests/e2e/access.rs`) fails for a route
//! with no row, then tries every row as every kind of principal, in and out of scope.

use axum::Router;
use axum::routing::MethodRouter;

use crate::AppState;

/// Who may use a route. "Scoped" rules also depend on the commune, hamlet, person or
/// device the path names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Who {
    /// Anyone, signed in or not: the sign-in page, static files, the phone app's
    /// files, health and metrics, enrolment (which needs a code).
    Anyone,
    /// Any signed-in, active user (anyone else is sent to sign in).
    SignedIn,
    /// A signed-in official of the commune in the path, or an administrator.
    CommuneOfficial,
    /// `CommuneOfficial`, or an officer of the province of the commune in the path
    /// (who reads its figures only).
    CommuneReader,
    /// A signed-in officer of the province in the path, or an administrator.
    ProvinceReader,
    /// `CommuneOfficial`, and the person in the path is theirs to manage.
    PersonManager,
    /// A signed-in user who may see the hamlet in the path (`may_see_hamlet`).
    HamletReader,
    /// A signed-in official of the commune of the hamlet in the path, or an
    /// administrator (`may_erase_household`).
    HamletOfficial,
    /// A signed-in leader (their own team).
    Leader,
    /// `CommuneReader`, or a leader of the team in the path.
    TeamReader,
    /// A signed-in leader, official or administrator (the devices they manage).
    DeviceManager,
    /// A signed-in user who may revoke the device in the path (`may_revoke`).
    Revoker,
    /// A signed-in administrator.
    Admin,
    /// An enrolled, unrevoked device of an active user.
    Device,
    /// A device of an official of the commune in the path, or of an administrator.
    DeviceCommuneOfficial,
    /// A device of an officer of the province in the path, or of an administrator, or
    /// a read-only API token issued for that province.
    DeviceProvinceReader,
    /// A device whose user may see the hamlet in the path.
    DeviceHamletReader,
    /// A device whose user may revoke the device in the path.
    DeviceRevoker,
}

/// One row of the table: a route, a method, who may use it.
#[derive(Debug, Clone, Copy)]
pub struct Access {
    /// `GET` or `POST`.
    pub method: &'static str,
    /// The route as the router declares it (`/communes/{id}`).
    pub path: &'static str,
    /// Who may use it.
    pub who: Who,
}

const fn row(method: &'static str, path: &'static str, who: Who) -> Access {
    Access { method, path, who }
}

/// Every route the server serves, with who may use it.
pub const ROUTES: &[Access] = &[
    // Machines.
    row("GET", "/healthz", Who::Anyone),
    row("GET", "/metrics", Who::Anyone),
    // API v1, by device token.
    row("GET", "/api/v1/openapi.json", Who::Anyone),
    row("POST", "/api/v1/enrol", Who::Anyone),
    row("GET", "/api/v1/me", Who::Device),
    row("POST", "/api/v1/sync", Who::Device),
    row("GET", "/api/v1/provinces/{id}/coverage", Who::DeviceProvinceReader),
    row("GET", "/api/v1/communes/{id}/coverage", Who::DeviceCommuneOfficial),
    row("GET", "/api/v1/hamlets/{id}/coverage", Who::DeviceHamletReader),
    row("POST", "/api/v1/devices/{id}/revoke", Who::DeviceRevoker),
    // The phone app's files.
    row("GET", "/app", Who::Anyone),
    row("GET", "/app/", Who::Anyone),
    row("GET", "/app/enrol", Who::Anyone),
    row("GET", "/app/sw.js", Who::Anyone),
    row("GET", "/app/{*path}", Who::Anyone),
    // The web, by session.
    row("GET", "/", Who::SignedIn),
    row("GET", "/login", Who::Anyone),
    row("POST", "/login", Who::Anyone),
    row("POST", "/logout", Who::SignedIn),
    row("GET", "/lang/{code}", Who::Anyone),
    row("GET", "/static/app.css", Who::Anyone),
    row("GET", "/static/icon.svg", Who::Anyone),
    row("GET", "/static/web.js", Who::Anyone),
    row("GET", "/provinces/{id}", Who::ProvinceReader),
    row("GET", "/provinces/{id}/export.xlsx", Who::ProvinceReader),
    row("GET", "/provinces/{id}/export.csv", Who::ProvinceReader),
    row("GET", "/provinces/{id}/day", Who::ProvinceReader),
    row("GET", "/provinces/{id}/day.png", Who::ProvinceReader),
    row("GET", "/provinces/{id}/filing", Who::ProvinceReader),
    row("POST", "/provinces/{id}/filing", Who::ProvinceReader),
    row("POST", "/provinces/{id}/filing/import", Who::ProvinceReader),
    row("GET", "/communes/{id}", Who::CommuneReader),
    row("GET", "/communes/{id}/day", Who::CommuneReader),
    row("GET", "/communes/{id}/day.png", Who::CommuneReader),
    row("GET", "/communes/{id}/filing", Who::CommuneReader),
    row("POST", "/communes/{id}/filing", Who::CommuneReader),
    row("POST", "/communes/{id}/filing/import", Who::CommuneReader),
    row("GET", "/communes/{id}/teams/{team}/day", Who::TeamReader),
    row("GET", "/communes/{id}/teams/{team}/day.png", Who::TeamReader),
    row("GET", "/communes/{id}/export.xlsx", Who::CommuneOfficial),
    row("GET", "/communes/{id}/export.csv", Who::CommuneOfficial),
    row("GET", "/communes/{id}/assignments", Who::CommuneOfficial),
    row("POST", "/communes/{id}/assignments", Who::CommuneOfficial),
    row("POST", "/communes/{id}/targets", Who::CommuneOfficial),
    row("POST", "/communes/{id}/counters", Who::CommuneOfficial),
    row("GET", "/communes/{id}/teams", Who::CommuneOfficial),
    row("POST", "/communes/{id}/teams", Who::CommuneOfficial),
    row("GET", "/communes/{id}/teams/{team}", Who::CommuneOfficial),
    row("POST", "/communes/{id}/teams/{team}", Who::CommuneOfficial),
    row("GET", "/communes/{id}/people", Who::CommuneOfficial),
    row("POST", "/communes/{id}/people", Who::CommuneOfficial),
    row("POST", "/communes/{id}/people/{user}/password", Who::PersonManager),
    row("POST", "/communes/{id}/people/{user}/active", Who::PersonManager),
    row("GET", "/communes/{id}/catalogue", Who::CommuneOfficial),
    row("POST", "/communes/{id}/catalogue", Who::CommuneOfficial),
    row("GET", "/communes/{id}/campaigns", Who::CommuneOfficial),
    row("POST", "/communes/{id}/campaigns", Who::CommuneOfficial),
    row("POST", "/communes/{id}/campaigns/{number}/close", Who::CommuneOfficial),
    row("POST", "/communes/{id}/visits-from", Who::CommuneOfficial),
    row("POST", "/communes/{id}/retention", Who::CommuneOfficial),
    row("GET", "/communes/{id}/audit", Who::CommuneOfficial),
    row("GET", "/hamlets/{id}", Who::HamletReader),
    row("GET", "/hamlets/{id}/export.xlsx", Who::HamletReader),
    row("GET", "/hamlets/{id}/export.csv", Who::HamletReader),
    row("GET", "/hamlets/{id}/households/{household}", Who::HamletReader),
    row("GET", "/hamlets/{id}/review", Who::HamletReader),
    row("POST", "/hamlets/{id}/review", Who::HamletReader),
    row("POST", "/hamlets/{id}/households/{household}/merge", Who::HamletReader),
    row("POST", "/hamlets/{id}/households/{household}/erase", Who::HamletOfficial),
    row("POST", "/hamlets/{id}/rollover", Who::HamletOfficial),
    row("GET", "/hamlets/{id}/households/{household}/export.json", Who::HamletOfficial),
    row("GET", "/team", Who::Leader),
    row("GET", "/team/follow-ups/print", Who::Leader),
    row("POST", "/team/enrol", Who::Leader),
    row("GET", "/devices", Who::DeviceManager),
    row("POST", "/devices/{id}/revoke", Who::Revoker),
    row("GET", "/admin", Who::Admin),
    row("POST", "/admin/provinces", Who::Admin),
    row("POST", "/admin/communes", Who::Admin),
    row("POST", "/admin/communes/attach", Who::Admin),
    row("POST", "/admin/api-tokens", Who::Admin),
    row("POST", "/admin/api-tokens/{id}/revoke", Who::Admin),
    row("POST", "/admin/officials", Who::Admin),
    row("POST", "/admin/province-officers", Who::Admin),
];

/// A router that remembers the paths it serves, so that the table can be held
/// against them.
pub(crate) struct Routes {
    router: Router<AppState>,
    paths: Vec<&'static str>,
}

impl Routes {
    pub(crate) fn new() -> Self {
        Self { router: Router::new(), paths: Vec::new() }
    }

    /// Serves `path` with `handlers`, as `Router::route` does.
    pub(crate) fn route(mut self, path: &'static str, handlers: MethodRouter<AppState>) -> Self {
        self.router = self.router.route(path, handlers);
        self.paths.push(path);
        self
    }

    /// Adds another area's routes.
    pub(crate) fn merge(mut self, other: Routes) -> Self {
        self.router = self.router.merge(other.router);
        self.paths.extend(other.paths);
        self
    }

    /// Applies `f` (a layer) to the routes so far, keeping their paths.
    pub(crate) fn map(mut self, f: impl FnOnce(Router<AppState>) -> Router<AppState>) -> Self {
        self.router = f(self.router);
        self
    }

    /// The router, for layers and merging.
    pub(crate) fn into_router(self) -> Router<AppState> {
        self.router
    }

    fn paths(&self) -> &[&'static str] {
        &self.paths
    }
}

/// Every area's routes.
pub(crate) fn areas() -> Vec<Routes> {
    vec![super::ops::router(), super::api::router(), super::web::router(), super::assets::router()]
}

/// Every path the server serves.
pub fn served() -> Vec<&'static str> {
    areas().iter().flat_map(|r| r.paths().to_vec()).collect()
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;

    #[test]
    fn every_served_path_has_a_row_and_every_row_is_served() {
        let served: BTreeSet<&str> = served().into_iter().collect();
        let tabled: BTreeSet<&str> = ROUTES.iter().map(|r| r.path).collect();
        assert_eq!(
            served.difference(&tabled).collect::<Vec<_>>(),
            Vec::<&&str>::new(),
            "served without a row"
        );
        assert_eq!(
            tabled.difference(&served).collect::<Vec<_>>(),
            Vec::<&&str>::new(),
            "a row for nothing served"
        );
    }
}
