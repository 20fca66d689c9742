//! Server-rendered views of Từng Nhà: pure functions from view-models to `maud::Markup`.
//!
//! Views know nothing of HTTP, sessions or the database: the `server` crate builds the
//! view-models, checks who may see what, and serves the markup. Every text a person
//! reads comes from `i18n` (Vietnamese first, English on a switch). maud escapes every
//! interpolated value; the only markup inserted unescaped is our own stylesheet and the
//! QR code's SVG, which the server draws from a code it made itself.
//!
//! Modules: `i18n` (texts, number and date formats), `layout` (the page shell and
//! shared pieces), `chart` (SVG charts), `day_report` (the day's report: text, image card, page), `filing` (the online-filing rate by month), `dashboard` (commune, hamlet, household and
//! team pages), `manage` (assignments, people, catalogue, audit, devices, enrolment,
//! administration), `teams` (a commune's teams and one team's page), `review` (households listed in the field, confirmed or removed) and
//! `auth` (sign-in and error pages).

pub mod auth;
pub mod campaigns;
pub mod chart;
pub mod dashboard;
pub mod day_report;
pub mod filing;
pub mod i18n;
pub mod layout;
pub mod manage;
pub mod review;
pub mod teams;

pub use i18n::{Lang, Texts};
pub use layout::{Chrome, FormErrors, SignedIn};

/// The stylesheet, served by the server at `/static/app.css`.
pub const STYLESHEET: &str = include_str!("../static/app.css");

/// The website's one script (progressive enhancement), served at `/static/web.js`.
pub const SCRIPT: &str = include_str!("../static/web.js");

/// The icon, served at `/static/icon.svg` (also the phone app's).
pub const ICON_SVG: &str = include_str!("../static/icon.svg");
