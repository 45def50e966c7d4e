//! A real HTTP/1.1 server on 127.0.0.1 for the network tests: fixed routes,
//! counts every accepted connection, records request bodies.

#![allow(dead_code, clippy::unwrap_used, clippy::type_complexity)]

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use mantra_update::manifest::{self, Manifest};
use ring::rand::SystemRandom;
use ring::signature::{Ed25519KeyPair, KeyPair};

pub struct Server {
    pub base: String,
    pub connections: Arc<AtomicUsize>,
    pub bodies: Arc<Mutex<Vec<(String, Vec<u8>)>>>,
    routes: Arc<Mutex<HashMap<String, (u16, Vec<u8>)>>>,
}

impl Server {
    pub fn start(routes: HashMap<String, (u16, Vec<u8>)>) -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let connections = Arc::new(AtomicUsize::new(0));
        let bodies = Arc::new(Mutex::new(Vec::new()));
        let routes = Arc::new(Mutex::new(routes));
        let (c, b, r) = (connections.clone(), bodies.clone(), routes.clone());
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { continue };
                c.fetch_add(1, Ordering::SeqCst);
                stream.set_read_timeout(Some(Duration::from_secs(5))).ok();
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut line = String::new();
                if reader.read_line(&mut line).is_err() {
                    continue;
                }
                let path = line.split_whitespace().nth(1).unwrap_or("/").to_string();
                let mut len = 0usize;
                loop {
                    let mut h = String::new();
                    if reader.read_line(&mut h).unwrap_or(0) == 0 || h == "\r\n" {
                        break;
                    }
                    let lower = h.to_ascii_lowercase();
                    if let Some(v) = lower.strip_prefix("content-length:") {
                        len = v.trim().parse().unwrap_or(0);
                    }
                }
                let mut body = vec![0; len];
                reader.read_exact(&mut body).ok();
                b.lock().unwrap().push((path.clone(), body));
                let (status, resp) = r
                    .lock()
                    .unwrap()
                    .get(&path)
                    .cloned()
                    .unwrap_or((404, b"not found".to_vec()));
                let head = format!(
                    "HTTP/1.1 {status} X\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                    resp.len()
                );
                stream.write_all(head.as_bytes()).ok();
                stream.write_all(&resp).ok();
            }
        });
        Server {
            base,
            connections,
            bodies,
            routes,
        }
    }

    pub fn route(&self, path: &str, status: u16, body: Vec<u8>) {
        self.routes
            .lock()
            .unwrap()
            .insert(path.to_string(), (status, body));
    }

    pub fn connections(&self) -> usize {
        self.connections.load(Ordering::SeqCst)
    }
}

pub struct Keys {
    pub pkcs8: Vec<u8>,
    pub public: manifest::PublicKey,
}

pub fn keys() -> Keys {
    let pkcs8 = Ed25519KeyPair::generate_pkcs8(&SystemRandom::new())
        .unwrap()
        .as_ref()
        .to_vec();
    let kp = Ed25519KeyPair::from_pkcs8(&pkcs8).unwrap();
    let mut public = [0u8; 32];
    public.copy_from_slice(kp.public_key().as_ref());
    Keys {
        pkcs8,
        public: manifest::PublicKey(public),
    }
}

pub fn manifest(version: &str, url: &str, sha256: &str) -> Manifest {
    Manifest {
        version: version.into(),
        channel: "stable".into(),
        url: url.into(),
        sha256: sha256.into(),
        notes: None,
    }
}
