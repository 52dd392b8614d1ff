//! Scheduled jobs: what runs when, its recent runs, and running one now.

use opsdeck_core::scheduler::{JobInfo, JobRun};
use opsdeck_vault::Role;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::catalogue::{Effect, Method, Nothing, Operation};
use crate::{Caller, Deck, DeckError};

/// `job.list`.
pub struct JobList;

impl Operation for JobList {
    type Input = Nothing;
    type Output = Vec<JobInfo>;
    const NAME: &'static str = "job.list";
    const SUMMARY: &'static str =
        "Every scheduled job (built-in checks, rotations, renewals, command jobs) with its schedule and latest run.";
    const EFFECT: Effect = Effect::Read;
    const ROLE: Role = Role::Viewer;
    const METHOD: Method = Method::Get;
    const PATH: &'static str = "/v1/jobs";

    async fn run(deck: &Deck, _caller: &Caller, _input: Nothing) -> Result<Vec<JobInfo>, DeckError> {
        deck.jobs().list().await
    }
}

/// One job's runs.
#[derive(Debug, Clone, Deserialize, JsonSchema, TS)]
#[serde(deny_unknown_fields)]
pub struct JobRunsInput {
    /// The job's name.
    pub name: String,
    /// How many runs, newest first (default 20, at most 500).
    #[serde(default)]
    #[ts(type = "number | null")]
    pub limit: Option<i64>,
}

/// `job.runs`.
pub struct JobRuns;

impl Operation for JobRuns {
    type Input = JobRunsInput;
    type Output = Vec<JobRun>;
    const NAME: &'static str = "job.runs";
    const SUMMARY: &'static str =
        "The latest runs of one job, newest first: when, where, outcome and message.";
    const EFFECT: Effect = Effect::Read;
    const ROLE: Role = Role::Viewer;
    const METHOD: Method = Method::Get;
    const PATH: &'static str = "/v1/jobs/{name}/runs";

    async fn run(deck: &Deck, _caller: &Caller, input: JobRunsInput) -> Result<Vec<JobRun>, DeckError> {
        deck.jobs().runs(&input.name, input.limit.unwrap_or(20).clamp(1, 500)).await
    }
}

/// A job.
#[derive(Debug, Clone, Deserialize, JsonSchema, TS)]
#[serde(deny_unknown_fields)]
pub struct NamedJob {
    /// The job's name.
    pub name: String,
}

/// What was asked of a job.
#[derive(Debug, Clone, Serialize, JsonSchema, TS)]
pub struct JobQueued {
    /// The job's name.
    pub name: String,
    /// Always true: the job is due now; a running scheduler takes it next.
    pub due_now: bool,
}

/// `job.run_now`.
pub struct JobRunNow;

impl Operation for JobRunNow {
    type Input = NamedJob;
    type Output = JobQueued;
    const NAME: &'static str = "job.run_now";
    const SUMMARY: &'static str =
        "Makes a job due now (the app or `opsdeck serve` runs it next); a job acting on a vault needs its operator role.";
    const EFFECT: Effect = Effect::Change;
    const ROLE: Role = Role::Operator;
    const METHOD: Method = Method::Post;
    const PATH: &'static str = "/v1/jobs/{name}/run";

    async fn run(deck: &Deck, caller: &Caller, input: NamedJob) -> Result<JobQueued, DeckError> {
        // A token limited to one vault must not start jobs that act elsewhere
        // (a command job acts on the machine).
        if caller.grant.is_some() {
            deck.require_deck_admin(caller, "job.run_now", "running a job through a token").await?;
        }
        deck.jobs().run_now(caller, &input.name).await?;
        Ok(JobQueued { name: input.name, due_now: true })
    }
}

/// A job to pause or resume.
#[derive(Debug, Clone, Deserialize, JsonSchema, TS)]
#[serde(deny_unknown_fields)]
pub struct PauseInput {
    /// The job's name.
    pub name: String,
    /// `true` pauses it, `false` resumes it.
    pub paused: bool,
}

/// A job's paused state after a change.
#[derive(Debug, Clone, Serialize, JsonSchema, TS)]
pub struct JobPaused {
    /// The job's name.
    pub name: String,
    /// Whether it is paused now.
    pub paused: bool,
}

/// `job.set_paused`.
pub struct JobSetPaused;

impl Operation for JobSetPaused {
    type Input = PauseInput;
    type Output = JobPaused;
    const NAME: &'static str = "job.set_paused";
    const SUMMARY: &'static str =
        "Pauses a job (it stays listed and runs no more) or resumes it; a job acting on a vault needs its operator role.";
    const EFFECT: Effect = Effect::Change;
    const ROLE: Role = Role::Operator;
    const METHOD: Method = Method::Post;
    const PATH: &'static str = "/v1/jobs/{name}/paused";

    async fn run(deck: &Deck, caller: &Caller, input: PauseInput) -> Result<JobPaused, DeckError> {
        // As with running one: a token limited to one vault must not stop
        // or start jobs that act elsewhere.
        if caller.grant.is_some() {
            deck.require_deck_admin(caller, "job.set_paused", "pausing a job through a token").await?;
        }
        deck.jobs().set_paused(caller, &input.name, input.paused).await?;
        Ok(JobPaused { name: input.name, paused: input.paused })
    }
}

/// What removing a job did.
#[derive(Debug, Clone, Serialize, JsonSchema, TS)]
pub struct JobRemoved {
    /// The job's name.
    pub name: String,
    /// Always true: the job and its run history are gone.
    pub removed: bool,
}

/// `job.remove`.
pub struct JobRemove;

impl Operation for JobRemove {
    type Input = NamedJob;
    type Output = JobRemoved;
    const NAME: &'static str = "job.remove";
    const SUMMARY: &'static str = "Deletes a job and its run history (a command job, a rotation or renewal \
        schedule); built-in jobs cannot be removed, only paused. A job acting on a vault needs its operator role.";
    const EFFECT: Effect = Effect::Change;
    const ROLE: Role = Role::Operator;
    const METHOD: Method = Method::Delete;
    const PATH: &'static str = "/v1/jobs/{name}";

    async fn run(deck: &Deck, caller: &Caller, input: NamedJob) -> Result<JobRemoved, DeckError> {
        // As with running one: a token limited to one vault must not remove
        // jobs that act elsewhere.
        if caller.grant.is_some() {
            deck.require_deck_admin(caller, "job.remove", "removing a job through a token").await?;
        }
        deck.jobs().remove(caller, &input.name).await?;
        Ok(JobRemoved { name: input.name, removed: true })
    }
}
