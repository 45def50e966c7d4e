//! Credential-shaped strings: true secrets of many kinds, and decoys that look
//! like secrets but are not.
//!
//! Every random body comes from the caller's seeded RNG, so nothing produced
//! here is a real credential, yet each value has the shape (prefix, length,
//! alphabet, checksum) that a real one of its kind has.

use rand::Rng as _;

use crate::Rng;

/// `0-9A-Za-z`, the alphabet of GitHub's and npm's token checksums.
pub const BASE62: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
const ALNUM: &[u8] = BASE62;
const URLSAFE: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz-_";
const B64: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const HEX: &[u8] = b"0123456789abcdef";
const LETTERS: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
const UPPER_B32: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
// No `%`: a `%XX` run would read as percent-encoding to some scanners.
const PASSWORD: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789!@^*-_+.";

/// `n` characters drawn uniformly from `alphabet`.
pub fn random_from(rng: &mut Rng, alphabet: &[u8], n: usize) -> String {
    (0..n)
        .map(|_| char::from(alphabet[rng.random_range(0..alphabet.len())]))
        .collect()
}

/// Lower-case hex of `n` characters.
pub fn hex(rng: &mut Rng, n: usize) -> String {
    random_from(rng, HEX, n)
}

/// A random version-4 UUID.
pub fn uuid(rng: &mut Rng) -> String {
    let h = hex(rng, 32);
    let variant = char::from(b"89ab"[rng.random_range(0..4)]);
    format!(
        "{}-{}-4{}-{}{}-{}",
        &h[0..8],
        &h[8..12],
        &h[13..16],
        variant,
        &h[17..20],
        &h[20..32]
    )
}

/// Standard base64 (with padding) of `data`.
pub fn base64(data: &[u8]) -> String {
    let mut out = String::with_capacity(data.len().div_ceil(3) * 4);
    for chunk in data.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(B64[((n >> (18 - 6 * i)) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// `n` random bytes.
pub fn bytes(rng: &mut Rng, n: usize) -> Vec<u8> {
    let mut v = vec![0u8; n];
    rng.fill(&mut v[..]);
    v
}

/// The 6-character, zero-padded base62 encoding of the CRC32 of `data`, as
/// used in the last six characters of GitHub and npm tokens.
pub fn base62_crc32(data: &[u8]) -> String {
    let mut n = crc32fast::hash(data);
    let mut digits = [b'0'; 6];
    for d in digits.iter_mut().rev() {
        *d = BASE62[(n % 62) as usize];
        n /= 62;
    }
    digits.iter().map(|&b| char::from(b)).collect()
}

/// True when the last 6 characters of `body` are the base62 CRC32 of the rest.
pub fn checksum_valid(body: &str) -> bool {
    body.len() == 36 && body.is_ascii() && base62_crc32(&body.as_bytes()[..30]) == body[30..]
}

/// `prefix` + 30 random base62 characters + their 6-character checksum.
pub fn checksummed(rng: &mut Rng, prefix: &str) -> String {
    let random = random_from(rng, BASE62, 30);
    let check = base62_crc32(random.as_bytes());
    format!("{prefix}{random}{check}")
}

/// The kinds of true secret the generator plants.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    OpenAiProject,
    OpenAiSvcAcct,
    AnthropicApi,
    AnthropicAdmin,
    GithubClassic,
    GithubOauth,
    GithubFineGrained,
    GitlabPat,
    AwsAccessKeyId,
    AwsSecretKey,
    StripeLive,
    SlackBot,
    SlackWebhook,
    GcpServiceAccount,
    PrivateKey,
    PostgresUrl,
    MongoUrl,
    GenericPassword,
    GenericSecret,
    HuggingFace,
    Groq,
    Npm,
    SendGrid,
    Twilio,
    GoogleApi,
    DigitalOcean,
    Replicate,
    Perplexity,
    Xai,
}

impl Kind {
    /// Token kinds that stand on their own (a distinctive prefix) and can be
    /// pasted anywhere, with the environment variable they usually live in.
    pub const STANDALONE: &'static [Kind] = &[
        Kind::OpenAiProject,
        Kind::OpenAiSvcAcct,
        Kind::AnthropicApi,
        Kind::AnthropicAdmin,
        Kind::GithubClassic,
        Kind::GithubOauth,
        Kind::GithubFineGrained,
        Kind::GitlabPat,
        Kind::StripeLive,
        Kind::SlackBot,
        Kind::SlackWebhook,
        Kind::PostgresUrl,
        Kind::MongoUrl,
        Kind::HuggingFace,
        Kind::Groq,
        Kind::Npm,
        Kind::SendGrid,
        Kind::Twilio,
        Kind::GoogleApi,
        Kind::DigitalOcean,
        Kind::Replicate,
        Kind::Perplexity,
        Kind::Xai,
    ];

    /// The label written to `labels.jsonl`.
    pub fn name(self) -> &'static str {
        match self {
            Kind::OpenAiProject => "openai-project-key",
            Kind::OpenAiSvcAcct => "openai-svcacct-key",
            Kind::AnthropicApi => "anthropic-api-key",
            Kind::AnthropicAdmin => "anthropic-admin-key",
            Kind::GithubClassic => "github-classic-pat",
            Kind::GithubOauth => "github-oauth-token",
            Kind::GithubFineGrained => "github-fine-grained-pat",
            Kind::GitlabPat => "gitlab-pat",
            Kind::AwsAccessKeyId => "aws-access-key-id",
            Kind::AwsSecretKey => "aws-secret-access-key",
            Kind::StripeLive => "stripe-secret-key",
            Kind::SlackBot => "slack-bot-token",
            Kind::SlackWebhook => "slack-webhook",
            Kind::GcpServiceAccount => "gcp-service-account-key",
            Kind::PrivateKey => "private-key",
            Kind::PostgresUrl => "postgres-url",
            Kind::MongoUrl => "mongodb-url",
            Kind::GenericPassword => "generic-password",
            Kind::GenericSecret => "generic-secret",
            Kind::HuggingFace => "huggingface-token",
            Kind::Groq => "groq-api-key",
            Kind::Npm => "npm-token",
            Kind::SendGrid => "sendgrid-api-key",
            Kind::Twilio => "twilio-api-key",
            Kind::GoogleApi => "google-api-key",
            Kind::DigitalOcean => "digitalocean-token",
            Kind::Replicate => "replicate-api-token",
            Kind::Perplexity => "perplexity-api-key",
            Kind::Xai => "xai-api-key",
        }
    }

    /// The environment variable a developer would keep this secret in.
    pub fn env_var(self) -> &'static str {
        match self {
            Kind::OpenAiProject | Kind::OpenAiSvcAcct => "OPENAI_API_KEY",
            Kind::AnthropicApi => "ANTHROPIC_API_KEY",
            Kind::AnthropicAdmin => "ANTHROPIC_ADMIN_KEY",
            Kind::GithubClassic => "GITHUB_TOKEN",
            Kind::GithubOauth => "GH_OAUTH_TOKEN",
            Kind::GithubFineGrained => "GITHUB_PAT",
            Kind::GitlabPat => "GITLAB_TOKEN",
            Kind::AwsAccessKeyId => "AWS_ACCESS_KEY_ID",
            Kind::AwsSecretKey => "AWS_SECRET_ACCESS_KEY",
            Kind::StripeLive => "STRIPE_SECRET_KEY",
            Kind::SlackBot => "SLACK_BOT_TOKEN",
            Kind::SlackWebhook => "SLACK_WEBHOOK_URL",
            Kind::GcpServiceAccount => "GOOGLE_APPLICATION_CREDENTIALS_JSON",
            Kind::PrivateKey => "PRIVATE_KEY",
            Kind::PostgresUrl => "DATABASE_URL",
            Kind::MongoUrl => "MONGODB_URI",
            Kind::GenericPassword => "DB_PASSWORD",
            Kind::GenericSecret => "CLIENT_SECRET",
            Kind::HuggingFace => "HF_TOKEN",
            Kind::Groq => "GROQ_API_KEY",
            Kind::Npm => "NPM_TOKEN",
            Kind::SendGrid => "SENDGRID_API_KEY",
            Kind::Twilio => "TWILIO_API_KEY",
            Kind::GoogleApi => "GEMINI_API_KEY",
            Kind::DigitalOcean => "DIGITALOCEAN_TOKEN",
            Kind::Replicate => "REPLICATE_API_TOKEN",
            Kind::Perplexity => "PERPLEXITY_API_KEY",
            Kind::Xai => "XAI_API_KEY",
        }
    }

    /// A fresh random value of this kind.
    pub fn generate(self, rng: &mut Rng) -> String {
        match self {
            Kind::OpenAiProject => openai(rng, "proj"),
            Kind::OpenAiSvcAcct => openai(rng, "svcacct"),
            Kind::AnthropicApi => format!("sk-ant-api03-{}AA", random_from(rng, URLSAFE, 93)),
            Kind::AnthropicAdmin => format!("sk-ant-admin01-{}AA", random_from(rng, URLSAFE, 93)),
            Kind::GithubClassic => checksummed(rng, "ghp_"),
            Kind::GithubOauth => checksummed(rng, "gho_"),
            Kind::GithubFineGrained => format!(
                "github_pat_11{}_{}",
                random_from(rng, UPPER_B32, 20),
                random_from(rng, ALNUM, 59)
            ),
            Kind::GitlabPat => format!("glpat-{}", random_from(rng, URLSAFE, 20)),
            Kind::AwsAccessKeyId => format!("AKIA{}", random_from(rng, UPPER_B32, 16)),
            Kind::AwsSecretKey => random_from(rng, &B64[..64], 40),
            // Legacy keys have 24 characters after the prefix, current ones 99 starting `51`.
            Kind::StripeLive => {
                if rng.random_bool(0.5) {
                    format!("sk_live_{}", random_from(rng, ALNUM, 24))
                } else {
                    format!("sk_live_51{}", random_from(rng, ALNUM, 97))
                }
            }
            Kind::SlackBot => format!(
                "xoxb-{}-{}-{}",
                random_from(rng, b"0123456789", 12),
                random_from(rng, b"0123456789", 13),
                random_from(rng, ALNUM, 24)
            ),
            Kind::SlackWebhook => format!(
                "https://hooks.slack.com/services/T{}/B{}/{}",
                random_from(rng, &ALNUM[..36], 10),
                random_from(rng, &ALNUM[..36], 10),
                random_from(rng, ALNUM, 24)
            ),
            Kind::GcpServiceAccount | Kind::PrivateKey => pem_private_key(rng, "PRIVATE KEY"),
            Kind::PostgresUrl => format!(
                "postgres://{}:{}@{}:5432/{}",
                pick(rng, &["app", "postgres", "admin", "svc_api", "analytics"]),
                random_from(rng, ALNUM, 20),
                pick(
                    rng,
                    &[
                        "db.internal.example.net",
                        "10.0.3.17",
                        "pg-prod-1.c9xk2.eu-west-1.rds.amazonaws.com",
                        "localhost"
                    ]
                ),
                pick(rng, &["app", "orders", "prod", "metrics"])
            ),
            Kind::MongoUrl => format!(
                "mongodb+srv://{}:{}@cluster0.{}.mongodb.net/{}?retryWrites=true&w=majority",
                pick(rng, &["admin", "app_user", "reporting"]),
                random_from(rng, ALNUM, 18),
                random_from(rng, b"abcdefghijklmnopqrstuvwxyz0123456789", 5),
                pick(rng, &["main", "prod", "sessions"])
            ),
            Kind::GenericPassword => {
                let n = rng.random_range(16..=26);
                random_from(rng, PASSWORD, n)
            }
            Kind::GenericSecret => {
                let n = rng.random_range(32..=48);
                random_from(rng, URLSAFE, n)
            }
            Kind::HuggingFace => format!("hf_{}", random_from(rng, LETTERS, 34)),
            Kind::Groq => format!("gsk_{}", random_from(rng, ALNUM, 52)),
            Kind::Npm => checksummed(rng, "npm_"),
            Kind::SendGrid => format!(
                "SG.{}.{}",
                random_from(rng, URLSAFE, 22),
                random_from(rng, URLSAFE, 43)
            ),
            Kind::Twilio => format!("SK{}", hex(rng, 32)),
            Kind::GoogleApi => format!("AIzaSy{}", random_from(rng, URLSAFE, 33)),
            Kind::DigitalOcean => format!("dop_v1_{}", hex(rng, 64)),
            Kind::Replicate => format!("r8_{}", random_from(rng, ALNUM, 37)),
            Kind::Perplexity => format!("pplx-{}", random_from(rng, ALNUM, 48)),
            Kind::Xai => format!("xai-{}", random_from(rng, ALNUM, 80)),
        }
    }
}

fn openai(rng: &mut Rng, infix: &str) -> String {
    format!(
        "sk-{infix}-{}T3BlbkFJ{}",
        random_from(rng, URLSAFE, 74),
        random_from(rng, URLSAFE, 74)
    )
}

/// One element of `items`, chosen uniformly.
pub fn pick<'a>(rng: &mut Rng, items: &[&'a str]) -> &'a str {
    items[rng.random_range(0..items.len())]
}

/// A PEM block with `label` (e.g. `RSA PRIVATE KEY`) around random DER-looking
/// base64, wrapped at 64 (70 for OpenSSH) columns, with no trailing newline.
pub fn pem_private_key(rng: &mut Rng, label: &str) -> String {
    let (prefix, len, width) = match label {
        "RSA PRIVATE KEY" => ("MIIEpAIBAAKCAQEA", 1190, 64),
        "EC PRIVATE KEY" => ("MHcCAQEEI", 121, 64),
        "OPENSSH PRIVATE KEY" => (
            "b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW",
            300,
            70,
        ),
        _ => (
            "MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQ",
            1190,
            64,
        ),
    };
    let body = format!("{prefix}{}", base64(&bytes(rng, len)));
    let mut out = format!("-----BEGIN {label}-----\n");
    for chunk in body.as_bytes().chunks(width) {
        out.push_str(&String::from_utf8_lossy(chunk));
        out.push('\n');
    }
    out.push_str(&format!("-----END {label}-----"));
    out
}

/// A random private-key PEM label.
pub fn pem_label(rng: &mut Rng) -> &'static str {
    pick(
        rng,
        &[
            "RSA PRIVATE KEY",
            "PRIVATE KEY",
            "EC PRIVATE KEY",
            "OPENSSH PRIVATE KEY",
        ],
    )
}

/// Look-alike values that must not be reported.
pub mod decoy {
    use super::*;

    /// A 40-hex git commit SHA.
    pub fn git_sha(rng: &mut Rng) -> String {
        hex(rng, 40)
    }

    /// A 64-hex SHA-256 digest.
    pub fn sha256(rng: &mut Rng) -> String {
        hex(rng, 64)
    }

    /// An npm/yarn `sha512-…` subresource-integrity string.
    pub fn sri(rng: &mut Rng) -> String {
        format!("sha512-{}", base64(&bytes(rng, 64)))
    }

    /// A ghp_/npm_ token with a deliberately wrong checksum.
    pub fn bad_checksum(rng: &mut Rng, prefix: &str) -> String {
        loop {
            let body = random_from(rng, BASE62, 36);
            if !checksum_valid(&body) {
                return format!("{prefix}{body}");
            }
        }
    }

    /// A masked key as UIs and logs print them.
    pub fn masked(rng: &mut Rng) -> String {
        let tail = random_from(rng, ALNUM, 4);
        match rng.random_range(0..6) {
            0 => format!("sk-...{tail}"),
            1 => "sk-proj-********************".to_owned(),
            2 => format!("sk-ant-api03-...{tail}"),
            3 => format!("ghp_********************************{tail}"),
            4 => format!("AKIA************{}", random_from(rng, UPPER_B32, 4)),
            _ => format!("sk_live_••••••••••••{tail}"),
        }
    }

    /// A token cut short (too short to be a credential of its kind).
    pub fn truncated(rng: &mut Rng) -> String {
        match rng.random_range(0..4) {
            0 => format!("sk-proj-{}…", random_from(rng, ALNUM, 6)),
            1 => format!("ghp_{}", random_from(rng, ALNUM, 12)),
            2 => format!("sk-ant-api03-{}...", random_from(rng, ALNUM, 5)),
            _ => format!("xoxb-{}", random_from(rng, b"0123456789", 6)),
        }
    }

    /// A placeholder value for `var`, in one of the usual spellings.
    pub fn placeholder(rng: &mut Rng, var: &str) -> String {
        match rng.random_range(0..11) {
            0 => "changeme".to_owned(),
            1 => "YOUR_API_KEY".to_owned(),
            2 => format!("${{{var}}}"),
            3 => format!("os.environ[\"{var}\"]"),
            4 => "<token>".to_owned(),
            5 => "xxxxxxxxxxxxxxxxxxxxxxxx".to_owned(),
            6 => "***".to_owned(),
            7 => format!("process.env.{var}"),
            8 => "your-secret-here".to_owned(),
            9 => "sk-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx".to_owned(),
            _ => format!("<{}>", var.to_ascii_lowercase()),
        }
    }

    /// Opaque base64 blobs of Codex `encrypted_content` and Claude thinking signatures.
    pub fn opaque_blob(rng: &mut Rng, prefix: &str, n: usize) -> String {
        format!("{prefix}{}", base64(&bytes(rng, n)))
    }

    /// A base64 PNG body of about `n` bytes.
    pub fn png_base64(rng: &mut Rng, n: usize) -> String {
        let mut data = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec();
        data.extend(bytes(rng, n));
        base64(&data)
    }

    /// A PEM public key or certificate (public material).
    pub fn pem_public(rng: &mut Rng) -> String {
        let label = if rng.random_bool(0.5) {
            "CERTIFICATE"
        } else {
            "PUBLIC KEY"
        };
        let body = base64(&bytes(rng, 290));
        let mut out = format!("-----BEGIN {label}-----\n");
        for chunk in body.as_bytes().chunks(64) {
            out.push_str(&String::from_utf8_lossy(chunk));
            out.push('\n');
        }
        out.push_str(&format!("-----END {label}-----"));
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn generated_github_tokens_validate() {
        let mut rng = Rng::seed_from_u64(7);
        for _ in 0..200 {
            let t = Kind::GithubClassic.generate(&mut rng);
            assert!(t.starts_with("ghp_") && t.len() == 40);
            assert!(checksum_valid(&t[4..]), "{t}");
            let n = Kind::Npm.generate(&mut rng);
            assert!(checksum_valid(&n[4..]), "{n}");
            let bad = decoy::bad_checksum(&mut rng, "ghp_");
            assert!(!checksum_valid(&bad[4..]));
        }
    }

    #[test]
    fn checksum_is_zero_padded_base62() {
        // crc32("") == 0 encodes as all zeros.
        assert_eq!(base62_crc32(b""), "000000");
        let c = base62_crc32(b"123456789"); // 0xCBF43926
        let mut n: u64 = 0;
        for b in c.bytes() {
            n = n * 62 + BASE62.iter().position(|&x| x == b).expect("base62 digit") as u64;
        }
        assert_eq!(n, 0xCBF4_3926);
    }

    #[test]
    fn base64_matches_reference() {
        assert_eq!(base64(b""), "");
        assert_eq!(base64(b"f"), "Zg==");
        assert_eq!(base64(b"fo"), "Zm8=");
        assert_eq!(base64(b"foobar"), "Zm9vYmFy");
    }

    #[test]
    fn shapes() {
        let mut rng = Rng::seed_from_u64(1);
        let a = Kind::AnthropicApi.generate(&mut rng);
        assert_eq!(a.len(), "sk-ant-api03-".len() + 95);
        assert!(a.ends_with("AA"));
        assert_eq!(Kind::AwsAccessKeyId.generate(&mut rng).len(), 20);
        assert_eq!(uuid(&mut rng).len(), 36);
    }
}
