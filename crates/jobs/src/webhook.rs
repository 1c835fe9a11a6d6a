//! A trigger's webhook: the ticket as JSON posted to a URL, retried with
//! the queue's backoff until it answers 2xx.

use std::time::Duration;

use async_trait::async_trait;
use domain::{Job, Millis};
use serde_json::Value;

use crate::{Handler, JobError};

pub struct WebhookPost {
    pub client: reqwest::Client,
}

impl WebhookPost {
    pub fn new() -> Self {
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap_or_default();
        Self { client }
    }
}

impl Default for WebhookPost {
    fn default() -> Self {
        Self::new()
    }
}

#[async_trait]
impl Handler for WebhookPost {
    async fn run(&self, job: &Job, _: Millis) -> Result<(), JobError> {
        let url = job.payload.get("url").and_then(Value::as_str).ok_or(JobError::Fail("no url".into()))?;
        let body = job.payload.get("body").cloned().unwrap_or(Value::Null);
        let res = self
            .client
            .post(url)
            .header("user-agent", "Switchboard")
            .json(&body)
            .send()
            .await
            .map_err(|e| JobError::Retry(format!("{url}: {e}")))?;
        if res.status().is_success() {
            Ok(())
        } else {
            Err(JobError::Retry(format!("{url} answered {}", res.status())))
        }
    }
}
