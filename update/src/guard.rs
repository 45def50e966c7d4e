//! The network guard: the only code in Mantra that opens a socket.
//!
//! A connection needs a [`Permit`], which only [`NetworkGuard::permit`]
//! makes, and only when the effective policy allows that purpose:
//! `network.enabled: false` forbids everything, whatever `updates.enabled`
//! or `crash_reports.enabled` say. The URL rule (https, or http to a
//! loopback address) is enforced here again, not only at validation. A test
//! scans the workspace for socket code outside this file.

use std::io::Read;
use std::time::Duration;

use mantra_policy::Policy;

/// Why Mantra wants the network.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    UpdateCheck,
    CrashReportUpload,
}

/// Policy said no. Says which key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("network access for {purpose:?} is disabled by policy ({reason})")]
pub struct Denied {
    pub purpose: Purpose,
    pub reason: &'static str,
}

/// Proof that policy allowed one purpose. Cannot be built outside this
/// module.
#[derive(Debug)]
pub struct Permit {
    purpose: Purpose,
    _private: (),
}

impl Permit {
    pub fn purpose(&self) -> Purpose {
        self.purpose
    }
}

/// The policy decision, taken once from the effective policy.
#[derive(Debug, Clone)]
pub struct NetworkGuard {
    network: bool,
    updates: bool,
    crash_reports: bool,
}

impl NetworkGuard {
    pub fn new(policy: &Policy) -> Self {
        NetworkGuard {
            network: policy.network.enabled,
            updates: policy.updates.enabled,
            crash_reports: policy.crash_reports.enabled,
        }
    }

    pub fn permit(&self, purpose: Purpose) -> Result<Permit, Denied> {
        if !self.network {
            return Err(Denied {
                purpose,
                reason: "network.enabled is false",
            });
        }
        let allowed = match purpose {
            Purpose::UpdateCheck => self.updates.then_some(()).ok_or("updates.enabled is false"),
            Purpose::CrashReportUpload => self
                .crash_reports
                .then_some(())
                .ok_or("crash_reports.enabled is false"),
        };
        allowed
            .map(|()| Permit {
                purpose,
                _private: (),
            })
            .map_err(|reason| Denied { purpose, reason })
    }
}

/// Transport failures.
#[derive(Debug, thiserror::Error)]
pub enum HttpError {
    #[error("refused URL {url}: {reason}")]
    BadUrl { url: String, reason: String },
    #[error("{url}: {message}")]
    Transport { url: String, message: String },
    #[error("{url}: HTTP status {status}")]
    Status { url: String, status: u16 },
    #[error("{url}: response larger than {limit} bytes")]
    TooLarge { url: String, limit: u64 },
}

fn agent() -> ureq::Agent {
    let tls = ureq::tls::TlsConfig::builder()
        .root_certs(ureq::tls::RootCerts::PlatformVerifier)
        .build();
    ureq::Agent::config_builder()
        .timeout_global(Some(Duration::from_secs(30)))
        .timeout_connect(Some(Duration::from_secs(10)))
        // A redirect could leave https or loopback; follow none.
        .max_redirects(0)
        .http_status_as_error(false)
        .user_agent(concat!("mantra/", env!("CARGO_PKG_VERSION")))
        .tls_config(tls)
        .build()
        .into()
}

fn check_url(url: &str) -> Result<(), HttpError> {
    mantra_policy::keys::url_allowed(url).map_err(|reason| HttpError::BadUrl {
        url: url.to_string(),
        reason,
    })
}

/// GET `url`, at most `limit` bytes of body.
pub fn get(_permit: &Permit, url: &str, limit: u64) -> Result<Vec<u8>, HttpError> {
    check_url(url)?;
    let transport = |e: ureq::Error| HttpError::Transport {
        url: url.to_string(),
        message: e.to_string(),
    };
    let mut resp = agent().get(url).call().map_err(transport)?;
    let status = resp.status().as_u16();
    if status != 200 {
        return Err(HttpError::Status {
            url: url.to_string(),
            status,
        });
    }
    let mut buf = Vec::new();
    resp.body_mut()
        .as_reader()
        .take(limit + 1)
        .read_to_end(&mut buf)
        .map_err(|e| HttpError::Transport {
            url: url.to_string(),
            message: e.to_string(),
        })?;
    if buf.len() as u64 > limit {
        return Err(HttpError::TooLarge {
            url: url.to_string(),
            limit,
        });
    }
    Ok(buf)
}

/// POST a JSON body; success is any 2xx.
pub fn post_json(_permit: &Permit, url: &str, body: &[u8]) -> Result<(), HttpError> {
    check_url(url)?;
    let resp = agent()
        .post(url)
        .header("Content-Type", "application/json")
        .send(body)
        .map_err(|e| HttpError::Transport {
            url: url.to_string(),
            message: e.to_string(),
        })?;
    let status = resp.status().as_u16();
    if !(200..300).contains(&status) {
        return Err(HttpError::Status {
            url: url.to_string(),
            status,
        });
    }
    Ok(())
}
