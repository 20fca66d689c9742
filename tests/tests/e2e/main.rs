//! End-to-end tests: real servers on 127.0.0.1:0, real clients over real HTTP.

mod access;
mod batch;
mod browser;
mod campaigns;
mod catalogue;
mod day_report;
mod erasure;
mod filing;
mod hardening;
mod phone;
mod postgres;
mod province;
mod refusals;
mod rollover;
mod serve;
mod sync;
mod teams;
mod walkins;
mod web;
