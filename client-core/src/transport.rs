//! The HTTP transport to a Từng Nhà server (feature `http`): enrolment, `me`, sync and
//! coverage, over blocking HTTP(S). It moves bytes and JSON; what they mean is decided
//! in `sync` and `device`.

use std::time::Duration;

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::api::{EnrolRequest, Enrolled, ErrorBody, Me};

/// Why a request to the server failed.
#[derive(Debug, thiserror::Error)]
pub enum TransportError {
    /// The server could not be reached (no signal, server down, wrong address).
    #[error("the server at {url} could not be reached ({reason}); nothing was lost, sync again later")]
    Unreachable {
        /// Where.
        url: String,
        /// Why.
        reason: String,
    },
    /// The server answered with an error.
    #[error("the server refused: {} ({})", .body.message, .body.code)]
    Refused {
        /// The HTTP status.
        status: u16,
        /// The server's error.
        body: ErrorBody,
    },
    /// The server's answer could not be read.
    #[error("the server's answer could not be read: {0}")]
    BadResponse(String),
}

impl TransportError {
    /// The server's error code, if it answered with one.
    pub fn code(&self) -> Option<&str> {
        match self {
            TransportError::Refused { body, .. } => Some(&body.code),
            _ => None,
        }
    }
}

/// A connection to one server, optionally as one enrolled device.
#[derive(Debug, Clone)]
pub struct HttpTransport {
    agent: ureq::Agent,
    base: String,
    token: Option<String>,
}

/// Largest answer accepted: a whole province's logs would not reach it.
const MAX_RESPONSE: u64 = 256 * 1024 * 1024;

impl HttpTransport {
    /// A transport to the server at `base_url` (`https://…` or `http://…`).
    pub fn new(base_url: &str) -> Self {
        let agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(120)))
            .build()
            .into();
        Self { agent, base: base_url.trim_end_matches('/').to_owned(), token: None }
    }

    /// The same transport, presenting a device token.
    pub fn with_token(mut self, token: &str) -> Self {
        self.token = Some(token.to_owned());
        self
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    fn unreachable(&self, e: impl std::fmt::Display) -> TransportError {
        TransportError::Unreachable { url: self.base.clone(), reason: e.to_string() }
    }

    fn finish(
        &self,
        response: Result<ureq::http::Response<ureq::Body>, ureq::Error>,
    ) -> Result<Vec<u8>, TransportError> {
        let mut response = response.map_err(|e| self.unreachable(e))?;
        let status = response.status().as_u16();
        let bytes = response
            .body_mut()
            .with_config()
            .limit(MAX_RESPONSE)
            .read_to_vec()
            .map_err(|e| self.unreachable(e))?;
        if (200..300).contains(&status) {
            return Ok(bytes);
        }
        let body = serde_json::from_slice::<ErrorBody>(&bytes).unwrap_or_else(|_| ErrorBody {
            code: format!("http_{status}"),
            message: String::from_utf8_lossy(&bytes).chars().take(200).collect(),
            rule: None,
            field: None,
        });
        Err(TransportError::Refused { status, body })
    }

    fn get_json<T: DeserializeOwned>(&self, path: &str) -> Result<T, TransportError> {
        let mut req = self.agent.get(self.url(path));
        if let Some(t) = &self.token {
            req = req.header("Authorization", format!("Bearer {t}"));
        }
        let bytes = self.finish(req.call())?;
        serde_json::from_slice(&bytes).map_err(|e| TransportError::BadResponse(e.to_string()))
    }

    fn post_json<B: Serialize, T: DeserializeOwned>(
        &self,
        path: &str,
        body: &B,
    ) -> Result<T, TransportError> {
        let json = serde_json::to_vec(body).map_err(|e| TransportError::BadResponse(e.to_string()))?;
        let mut req = self.agent.post(self.url(path)).header("Content-Type", "application/json");
        if let Some(t) = &self.token {
            req = req.header("Authorization", format!("Bearer {t}"));
        }
        let bytes = self.finish(req.send(&json[..]))?;
        serde_json::from_slice(&bytes).map_err(|e| TransportError::BadResponse(e.to_string()))
    }

    /// Enrols this device with a leader's single-use code.
    pub fn enrol(&self, code: &str, device_name: &str) -> Result<Enrolled, TransportError> {
        self.post_json("/api/v1/enrol", &EnrolRequest { code: code.into(), device_name: device_name.into() })
    }

    /// Who this device belongs to, their hamlets and their catalogue.
    pub fn me(&self) -> Result<Me, TransportError> {
        self.get_json("/api/v1/me")
    }

    /// One sync exchange: posts an envelope, returns the answer envelope's bytes.
    pub fn sync(&self, envelope: &[u8]) -> Result<Vec<u8>, TransportError> {
        let mut req =
            self.agent.post(self.url("/api/v1/sync")).header("Content-Type", "application/octet-stream");
        if let Some(t) = &self.token {
            req = req.header("Authorization", format!("Bearer {t}"));
        }
        self.finish(req.send(envelope))
    }

    /// Any JSON resource of the API (coverage reports), as untyped JSON.
    pub fn get(&self, path: &str) -> Result<serde_json::Value, TransportError> {
        self.get_json(path)
    }
}
