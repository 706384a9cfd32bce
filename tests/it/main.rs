//! The integration suite: one binary, every test against a real server on port 0 and a
//! database of its own (an SQLite file by default; a fresh PostgreSQL database when
//! `TEST_DATABASE_URL` is set).

mod access;
mod achievement;
mod admin;
mod auth;
mod bulk;
mod cli;
mod common;
mod demo;
mod hardening;
mod http_spec;
mod import;
mod instances;
mod logs;
mod migrations;
mod national;
mod outage;
mod pages;
mod plan_writes;
mod plans;
mod schema;
mod seed_texts;
mod service_accounts;
mod sessions;
mod units;
mod values;
