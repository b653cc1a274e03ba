//! `mlopsc serve --local` from a test: the server as a child process, on a free port, and
//! a plain HTTP/1.1 client for it. Included with
//! `#[path = "common/endpoint.rs"] mod endpoint;`.
#![allow(dead_code)] // Each test binary uses part of it.

use std::path::Path;
use std::process::Command;

/// `mlopsc serve --local`, running until dropped.
pub struct Endpoint {
    child: std::process::Child,
    pub port: u16,
}

impl Endpoint {
    pub fn start(spec: &Path, workdir: &Path, extra: &[&str]) -> Endpoint {
        use std::io::BufRead;
        let mut command = Command::new(env!("CARGO_BIN_EXE_mlopsc"));
        command
            .args(["serve", "--local", spec.to_str().unwrap(), "--port", "0"])
            .args(["--workdir", workdir.to_str().unwrap()])
            .args(extra)
            .env_clear()
            .env("NO_COLOR", "1")
            .stdout(std::process::Stdio::piped())
            // The request log, one line per request, kept out of the test's output.
            .stderr(std::fs::File::create(workdir.with_file_name("serve.log")).unwrap());
        for name in ["HOME", "XDG_CACHE_HOME", "PATH"] {
            if let Some(value) = std::env::var_os(name) {
                command.env(name, value);
            }
        }
        let mut child = command.spawn().expect("mlopsc runs");
        let mut line = String::new();
        std::io::BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let port = line
            .trim()
            .rsplit_once(':')
            .and_then(|(_, port)| port.parse().ok())
            .unwrap_or_else(|| {
                let _ = child.kill();
                let log = std::fs::read_to_string(workdir.with_file_name("serve.log"));
                panic!("no `listening on` line, but {line:?}; its log: {log:?}")
            });
        Endpoint { child, port }
    }

    /// One HTTP request; the status and the body. `body: None` declares a 50 MB body and
    /// sends none of it: the endpoint must refuse it from its length.
    pub fn request(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: Option<&[u8]>,
    ) -> (u16, String) {
        use std::io::{Read, Write};
        let mut stream = std::net::TcpStream::connect(("127.0.0.1", self.port)).unwrap();
        let length = body.map_or(50 * 1024 * 1024, <[u8]>::len);
        let mut head =
            format!("{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n");
        if method == "POST" {
            head.push_str(&format!("Content-Length: {length}\r\n"));
        }
        for (name, value) in headers {
            head.push_str(&format!("{name}: {value}\r\n"));
        }
        head.push_str("\r\n");
        stream.write_all(head.as_bytes()).unwrap();
        if let Some(body) = body {
            stream.write_all(body).unwrap();
        }
        let mut response = Vec::new();
        stream.read_to_end(&mut response).unwrap();
        let response = String::from_utf8_lossy(&response).into_owned();
        let status = response
            .split_whitespace()
            .nth(1)
            .and_then(|code| code.parse().ok())
            .unwrap_or_else(|| panic!("not an HTTP response: {response:?}"));
        let body = response.split_once("\r\n\r\n").map_or("", |(_, body)| body);
        (status, body.to_string())
    }

    pub fn invoke(&self, content_type: &str, body: &[u8], inference_id: &str) -> (u16, String) {
        self.request(
            "POST",
            "/invocations",
            &[
                ("Content-Type", content_type),
                ("X-Amzn-SageMaker-Inference-Id", inference_id),
            ],
            Some(body),
        )
    }
}

impl Drop for Endpoint {
    fn drop(&mut self) {
        // The handler's Python stops when mlopsc is gone.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
