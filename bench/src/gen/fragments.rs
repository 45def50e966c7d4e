//! Fragments that carry planted values: the ways secrets and their
//! look-alikes turn up in a developer's files and in what an assistant sees
//! (pasted keys, `cat .env`, curl commands, hard-coded keys, key files, lock
//! files, documentation examples, masked keys...).
//!
//! `max_pre` bounds how much escaping a fragment may carry inside itself, so
//! that a fragment embedded in a doubly-escaping container (Codex tool
//! arguments) never takes a value past two layers.

use rand::Rng as _;

use super::plant::Fragment;
use crate::text;
use crate::tokens::{decoy, hex, pem_label, pem_private_key, pick, random_from, uuid, Kind};
use crate::Rng;

/// One standalone token kind, uniformly.
fn standalone(rng: &mut Rng) -> Kind {
    Kind::STANDALONE[rng.random_range(0..Kind::STANDALONE.len())]
}

/// A fragment with one or more true secrets in it.
pub fn with_secret(rng: &mut Rng, max_pre: u8) -> Fragment {
    loop {
        let frag = match rng.random_range(0..12) {
            0 | 1 => pasted(rng),
            2 => curl(rng),
            3 => env_file(rng),
            4 => hardcoded(rng),
            5 => aws_credentials(rng),
            6 => {
                let mut f = Fragment::default();
                let label = pem_label(rng);
                let key = f.secret(Kind::PrivateKey, pem_private_key(rng, label));
                f.text = format!("$ cat ~/.ssh/deploy_key\n{key}\n");
                f
            }
            7 => gcp_service_account(rng),
            8 => oauth_client_json(rng),
            9 => config_yaml(rng),
            10 => compose(rng),
            _ => settings_py(rng),
        };
        if frag.max_pre() <= max_pre {
            return frag;
        }
    }
}

/// A fragment with only look-alikes in it.
pub fn with_decoy(rng: &mut Rng, max_pre: u8) -> Fragment {
    loop {
        let frag = match rng.random_range(0..10) {
            0 => package_lock(rng, 4),
            1 => readme(rng),
            2 => placeholder_env(rng),
            3 => masked_mention(rng),
            4 => truncated_mention(rng),
            5 => bad_checksum_fixture(rng),
            6 => {
                let mut f = Fragment::default();
                let pem = f.decoy("pem-public", decoy::pem_public(rng));
                f.text = format!("$ cat certs/ca.pem\n{pem}\n");
                f
            }
            7 => yarn_lock(rng),
            8 => cargo_lock(rng),
            _ => ids_config(rng),
        };
        if frag.max_pre() <= max_pre {
            return frag;
        }
    }
}

fn pasted(rng: &mut Rng) -> Fragment {
    let mut f = Fragment::default();
    let kind = standalone(rng);
    let value = f.secret(kind, kind.generate(rng));
    let var = kind.env_var();
    f.text = match rng.random_range(0..5) {
        0 => format!(
            "{} My {var} is {value} if you need it for the test.",
            text::prompt(rng)
        ),
        1 => format!("use this key: {value}\n\n{}", text::prompt(rng)),
        2 => format!(
            "I exported it already:\nexport {var}={value}\nbut the client still says unauthorized."
        ),
        3 => format!(
            "{}\n\n(the token is `{value}`, it's a dev one)",
            text::prompt(rng)
        ),
        _ => format!(
            "here is the failing request with my {} key {value} — why 401?",
            var.to_lowercase()
        ),
    };
    f
}

fn curl(rng: &mut Rng) -> Fragment {
    let mut f = Fragment::default();
    let kind = standalone(rng);
    let value = f.secret(kind, kind.generate(rng));
    let host = pick(
        rng,
        &[
            "api.openai.com/v1/models",
            "api.example.dev/v2/orders",
            "api.github.com/user",
            "hooks.internal.dev/notify",
        ],
    );
    f.text = format!("curl -sS https://{host} -H \"Authorization: Bearer {value}\" -H 'Content-Type: application/json'");
    f
}

/// A `.env` file: a few secrets among placeholders, comments and settings.
pub fn env_file(rng: &mut Rng) -> Fragment {
    let mut f = Fragment::default();
    let mut lines = vec![
        "# local development settings".to_owned(),
        format!("PORT={}", rng.random_range(3000..9000)),
        "NODE_ENV=development".into(),
        "LOG_LEVEL=debug".into(),
    ];
    for _ in 0..rng.random_range(1..4) {
        let kind = standalone(rng);
        let v = f.secret(kind, kind.generate(rng));
        lines.push(format!("{}={v}", kind.env_var()));
    }
    if rng.random_bool(0.5) {
        let pw = f.secret(Kind::GenericPassword, Kind::GenericPassword.generate(rng));
        lines.push(format!("DB_PASSWORD={pw}"));
    }
    if rng.random_bool(0.3) {
        let id = f.secret(Kind::AwsAccessKeyId, Kind::AwsAccessKeyId.generate(rng));
        let sk = f.secret(Kind::AwsSecretKey, Kind::AwsSecretKey.generate(rng));
        lines.push(format!("AWS_ACCESS_KEY_ID={id}"));
        lines.push(format!("AWS_SECRET_ACCESS_KEY={sk}"));
    }
    for _ in 0..rng.random_range(1..3) {
        let var = pick(
            rng,
            &[
                "SENTRY_DSN_TOKEN",
                "MAILGUN_API_KEY",
                "REDIS_PASSWORD",
                "JWT_SECRET",
                "API_TOKEN",
            ],
        );
        let v = f.decoy(
            "placeholder",
            format!("{var}={}", decoy::placeholder(rng, var)),
        );
        lines.push(v);
    }
    lines.push(format!("SESSION_ID={}", uuid(rng)));
    f.text = lines.join("\n") + "\n";
    f
}

pub fn hardcoded(rng: &mut Rng) -> Fragment {
    let mut f = Fragment::default();
    let (path, body) = text::code(rng);
    let kind = standalone(rng);
    let v = f.secret(kind, kind.generate(rng));
    let line = if path.ends_with(".py") {
        format!("client = Client(api_key=\"{v}\")  # TODO move to env")
    } else if path.ends_with(".ts") {
        format!("const client = new Client({{ apiKey: '{v}' }});")
    } else {
        format!("const API_KEY: &str = \"{v}\";")
    };
    f.text = format!("{body}\n{line}\n");
    f
}

/// An `~/.aws/credentials` file.
pub fn aws_credentials(rng: &mut Rng) -> Fragment {
    let mut f = Fragment::default();
    let id = f.secret(Kind::AwsAccessKeyId, Kind::AwsAccessKeyId.generate(rng));
    let sk = f.secret(Kind::AwsSecretKey, Kind::AwsSecretKey.generate(rng));
    f.text = format!(
        "[default]\naws_access_key_id = {id}\naws_secret_access_key = {sk}\nregion = {}\n",
        pick(rng, &["us-east-1", "eu-west-1", "ap-southeast-2"])
    );
    f
}

/// A GCP service-account key file (the private key JSON-escaped inside).
pub fn gcp_service_account(rng: &mut Rng) -> Fragment {
    let mut f = Fragment::default();
    let project = format!(
        "{}-{}",
        pick(rng, &["acme", "orders", "ml-platform"]),
        rng.random_range(100000..999999)
    );
    let pem = pem_private_key(rng, "PRIVATE KEY") + "\n";
    let key = f.secret_in_json(Kind::GcpServiceAccount, pem);
    let sa = crate::json::J::Obj(vec![
        ("type", crate::json::J::s("service_account")),
        ("project_id", crate::json::J::s(project.clone())),
        ("private_key_id", crate::json::J::s(hex(rng, 40))),
        ("private_key", crate::json::J::s(key)),
        (
            "client_email",
            crate::json::J::s(format!("deployer@{project}.iam.gserviceaccount.com")),
        ),
        (
            "client_id",
            crate::json::J::s(random_from(rng, b"0123456789", 21)),
        ),
        (
            "auth_uri",
            crate::json::J::s("https://accounts.google.com/o/oauth2/auth"),
        ),
        (
            "token_uri",
            crate::json::J::s("https://oauth2.googleapis.com/token"),
        ),
    ]);
    f.text = sa.pretty() + "\n";
    f
}

fn oauth_client_json(rng: &mut Rng) -> Fragment {
    let mut f = Fragment::default();
    let secret = f.secret_in_json(Kind::GenericSecret, Kind::GenericSecret.generate(rng));
    f.text = format!(
        "{{\n  \"web\": {{\n    \"client_id\": \"{}-{}.apps.googleusercontent.com\",\n    \"client_secret\": \"{secret}\",\n    \"redirect_uris\": [\"http://localhost:8080/callback\"]\n  }}\n}}\n",
        random_from(rng, b"0123456789", 12),
        random_from(rng, b"abcdefghijklmnopqrstuvwxyz0123456789", 32)
    );
    f
}

/// A `config.yaml` with a database password and a placeholder.
pub fn config_yaml(rng: &mut Rng) -> Fragment {
    let mut f = Fragment::default();
    let pw = f.secret(Kind::GenericPassword, Kind::GenericPassword.generate(rng));
    let kind = standalone(rng);
    let token = f.secret(kind, kind.generate(rng));
    let ph = f.decoy(
        "placeholder",
        format!(
            "smtp_password: \"{}\"",
            decoy::placeholder(rng, "SMTP_PASSWORD")
        ),
    );
    f.text = format!(
        "server:\n  host: 0.0.0.0\n  port: 8080\ndatabase:\n  host: db.internal\n  user: app\n  password: \"{pw}\"\n  pool_size: 10\nintegrations:\n  {}: \"{token}\"\nmail:\n  {ph}\nrequest_timeout_ms: 5000\n",
        kind.env_var().to_lowercase()
    );
    f
}

/// A `docker-compose.yml` with a literal password and an interpolated one.
pub fn compose(rng: &mut Rng) -> Fragment {
    let mut f = Fragment::default();
    let pw = f.secret(Kind::GenericPassword, Kind::GenericPassword.generate(rng));
    let ph = f.decoy("placeholder", "REDIS_PASSWORD: ${REDIS_PASSWORD}".into());
    f.text = format!(
        "services:\n  db:\n    image: postgres:16\n    environment:\n      POSTGRES_USER: app\n      POSTGRES_PASSWORD: \"{pw}\"\n    ports:\n      - \"5432:5432\"\n  cache:\n    image: redis:7\n    environment:\n      {ph}\n  api:\n    build: .\n    depends_on: [db, cache]\n"
    );
    f
}

/// A Django-style `settings.py`.
pub fn settings_py(rng: &mut Rng) -> Fragment {
    let mut f = Fragment::default();
    let sk = f.secret(Kind::GenericSecret, Kind::GenericSecret.generate(rng));
    let ph = f.decoy(
        "placeholder",
        "\"PASSWORD\": os.environ[\"DB_PASSWORD\"],".into(),
    );
    let stripe = f.secret(Kind::StripeLive, Kind::StripeLive.generate(rng));
    f.text = format!(
        "import os\n\nDEBUG = False\nSECRET_KEY = \"{sk}\"\nALLOWED_HOSTS = [\"api.example.dev\"]\n\nDATABASES = {{\n    \"default\": {{\n        \"ENGINE\": \"django.db.backends.postgresql\",\n        \"NAME\": \"app\",\n        \"USER\": \"app\",\n        {ph}\n    }}\n}}\n\nSTRIPE_SECRET_KEY = \"{stripe}\"\n"
    );
    f
}

pub fn package_lock(rng: &mut Rng, entries: usize) -> Fragment {
    let mut f =
        Fragment::plain("{\n  \"name\": \"web\",\n  \"lockfileVersion\": 3,\n  \"packages\": {\n");
    for i in 0..entries {
        let name = pick(
            rng,
            &[
                "react", "zod", "undici", "vite", "esbuild", "lodash", "semver", "chalk", "debug",
                "ms",
            ],
        );
        let sri = f.decoy("sri-integrity", decoy::sri(rng));
        let (a, b, c) = (
            rng.random_range(1..20),
            rng.random_range(0..20),
            rng.random_range(0..20),
        );
        let sep = if i + 1 < entries { "," } else { "" };
        f.text.push_str(&format!(
            "    \"node_modules/{name}-{i}\": {{\n      \"version\": \"{a}.{b}.{c}\",\n      \"resolved\": \"https://registry.npmjs.org/{name}/-/{name}-{a}.{b}.{c}.tgz\",\n      \"integrity\": \"{sri}\"\n    }}{sep}\n"
        ));
    }
    f.text.push_str("  }\n}\n");
    f
}

pub fn yarn_lock(rng: &mut Rng) -> Fragment {
    let mut f = Fragment::default();
    let c = f.decoy("lockfile-checksum", format!("10c0/{}", hex(rng, 128)));
    f.text = format!("\"lodash@npm:^4.17.21\":\n  version: 4.17.21\n  resolution: \"lodash@npm:4.17.21\"\n  checksum: {c}\n  languageName: node\n  linkType: hard\n");
    f
}

pub fn cargo_lock(rng: &mut Rng) -> Fragment {
    let mut f = Fragment::default();
    let c = f.decoy("sha256-hex", decoy::sha256(rng));
    f.text = format!("[[package]]\nname = \"serde\"\nversion = \"1.0.219\"\nsource = \"registry+https://github.com/rust-lang/crates.io-index\"\nchecksum = \"{c}\"\n");
    f
}

/// A README with documentation example keys and placeholders.
pub fn readme(rng: &mut Rng) -> Fragment {
    let mut f = Fragment::default();
    let id = f.decoy("doc-example", "AKIAIOSFODNN7EXAMPLE".into());
    let sk = f.decoy(
        "doc-example",
        "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY".into(),
    );
    let ph = f.decoy("placeholder", "OPENAI_API_KEY=YOUR_API_KEY".into());
    let ph2 = f.decoy(
        "placeholder",
        format!("GITHUB_TOKEN={}", decoy::placeholder(rng, "GITHUB_TOKEN")),
    );
    f.text = format!(
        "## Configuration\n\nCopy `.env.example` to `.env` and fill in your keys:\n\n```sh\n{ph}\n{ph2}\n```\n\nFor AWS, the SDK reads the usual variables, for example:\n\n```sh\nexport AWS_ACCESS_KEY_ID={id}\nexport AWS_SECRET_ACCESS_KEY={sk}\n```\n\n{}\n",
        text::words(rng, 20)
    );
    f
}

pub fn placeholder_env(rng: &mut Rng) -> Fragment {
    let mut f = Fragment::default();
    let mut lines = vec!["# .env.example — copy to .env".to_owned()];
    for var in [
        "OPENAI_API_KEY",
        "ANTHROPIC_API_KEY",
        "DB_PASSWORD",
        "STRIPE_SECRET_KEY",
        "CLIENT_SECRET",
    ] {
        if rng.random_bool(0.7) {
            lines.push(f.decoy(
                "placeholder",
                format!("{var}={}", decoy::placeholder(rng, var)),
            ));
        }
    }
    lines.push("PORT=8080".into());
    f.text = lines.join("\n") + "\n";
    f
}

fn masked_mention(rng: &mut Rng) -> Fragment {
    let mut f = Fragment::default();
    let m = f.decoy("masked", decoy::masked(rng));
    f.text = format!(
        "The dashboard shows the key as {m}; I rotated it yesterday. {}",
        text::reply(rng)
    );
    f
}

fn truncated_mention(rng: &mut Rng) -> Fragment {
    let mut f = Fragment::default();
    let t = f.decoy("truncated", decoy::truncated(rng));
    f.text = format!(
        "The log line was cut at `{t}` so I can't tell which token it used. {}",
        text::thought(rng)
    );
    f
}

fn bad_checksum_fixture(rng: &mut Rng) -> Fragment {
    let mut f = Fragment::default();
    let prefix = if rng.random_bool(0.7) { "ghp_" } else { "npm_" };
    let t = f.decoy("bad-checksum", decoy::bad_checksum(rng, prefix));
    f.text = format!("// test fixture: a token-shaped string whose checksum does not verify\nconst FAKE_TOKEN = \"{t}\";\nexpect(isValidToken(FAKE_TOKEN)).toBe(false);\n");
    f
}

fn ids_config(rng: &mut Rng) -> Fragment {
    let mut f = Fragment::default();
    let u = f.decoy("uuid", uuid(rng));
    let d = f.decoy("sha256-hex", format!("sha256:{}", decoy::sha256(rng)));
    let g = f.decoy("git-sha", decoy::git_sha(rng));
    f.text = format!(
        "deployment:\n  tenant_id: {u}\n  image: ghcr.io/acme/api@{d}\n  commit: {g}\n  replicas: {}\n",
        rng.random_range(1..6)
    );
    f
}
