//! The deployment of `deploy/`: Debian's nginx runs the shipped site file (with this test's
//! ports and a self-signed certificate made here) in front of two instances of the real
//! binary on one PostgreSQL database. Through the proxy: sign up (a `Secure` cookie), see
//! the live seat counter move when registering, rate limits keyed by the real client
//! address (the proxy's `X-Forwarded-For`, trusted from the proxy alone), plain HTTP
//! redirected, `/metrics` not public. curl is the client (TLS, source addresses).

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::helpers::TempDb;
use crate::lifecycle::{Instance, free_addr, seed};

fn nginx_binary() -> PathBuf {
    ["/usr/sbin/nginx", "/usr/bin/nginx"].iter().map(PathBuf::from).find(|p| p.exists()).unwrap_or_else(|| {
        panic!("nginx is required by the deployment test: `scripts/setup.sh test` installs Debian's nginx")
    })
}

struct Nginx {
    child: Child,
    dir: PathBuf,
}

impl Drop for Nginx {
    fn drop(&mut self) {
        // SIGTERM, so the master stops its workers too (SIGKILL would leave them running).
        // SAFETY: kill(2) on the process this test started.
        unsafe { libc::kill(self.child.id() as libc::pid_t, libc::SIGTERM) };
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline && matches!(self.child.try_wait(), Ok(None)) {
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// The shipped site file with this test's ports, certificate and no IPv6 listeners.
fn site(dir: &Path, http: u16, https: u16, upstreams: [&Instance; 2]) -> String {
    let shipped = std::fs::read_to_string("deploy/nginx/tsudoi.conf").expect("deploy/nginx/tsudoi.conf");
    let replacements = [
        ("listen 80;", format!("listen 127.0.0.1:{http};")),
        ("listen 443 ssl http2;", format!("listen 127.0.0.1:{https} ssl http2;")),
        ("server 127.0.0.1:3001", format!("server {}", upstreams[0].addr)),
        ("server 127.0.0.1:3002", format!("server {}", upstreams[1].addr)),
        ("/etc/letsencrypt/live/tsudoi.example.org/fullchain.pem", dir.join("cert.pem").display().to_string()),
        ("/etc/letsencrypt/live/tsudoi.example.org/privkey.pem", dir.join("key.pem").display().to_string()),
        ("server_name tsudoi.example.org;", "server_name localhost;".to_string()),
    ];
    let mut conf = shipped.clone();
    for (from, to) in replacements {
        assert!(conf.contains(from), "the shipped site file has `{from}`");
        conf = conf.replace(from, &to);
    }
    conf.lines().filter(|l| !l.trim_start().starts_with("listen [::]")).collect::<Vec<_>>().join("\n")
}

async fn start_nginx(http: u16, https: u16, upstreams: [&Instance; 2]) -> Nginx {
    let dir = std::env::temp_dir().join(format!("tsudoi-nginx-{}-{https}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let made = Command::new("openssl")
        .args(["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=localhost"])
        .args(["-addext", "subjectAltName=DNS:localhost"])
        .arg("-keyout")
        .arg(dir.join("key.pem"))
        .arg("-out")
        .arg(dir.join("cert.pem"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .expect("openssl");
    assert!(made.success(), "self-signed certificate");
    std::fs::write(dir.join("site.conf"), site(&dir, http, https, upstreams)).unwrap();
    let d = dir.display();
    let main = format!(
        "worker_processes 1;\nerror_log {d}/error.log warn;\npid {d}/nginx.pid;\nevents {{ worker_connections 512; }}\n\
         http {{\n  include /etc/nginx/mime.types;\n  access_log off;\n  client_body_temp_path {d}/body;\n\
         proxy_temp_path {d}/proxy;\n  fastcgi_temp_path {d}/fastcgi;\n  uwsgi_temp_path {d}/uwsgi;\n\
         scgi_temp_path {d}/scgi;\n  include {d}/site.conf;\n}}\n"
    );
    std::fs::write(dir.join("nginx.conf"), main).unwrap();
    let child = Command::new(nginx_binary())
        .arg("-p")
        .arg(&dir)
        .arg("-c")
        .arg(dir.join("nginx.conf"))
        .args(["-g", "daemon off;"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start nginx");
    let nginx = Nginx { child, dir };
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if curl(&nginx, https, &["-o", "/dev/null"], "/healthz").0 == 200 {
            return nginx;
        }
        let log = std::fs::read_to_string(nginx.dir.join("error.log")).unwrap_or_default();
        assert!(Instant::now() < deadline, "nginx did not come up: {log}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// `curl -sk` to `https://localhost:{https}{path}` with the jar of `nginx.dir`; (status,
/// response headers, body).
fn curl(nginx: &Nginx, https: u16, args: &[&str], path: &str) -> (u16, String, String) {
    let headers = nginx.dir.join(format!("h-{}", std::process::id()));
    let body = nginx.dir.join(format!("b-{}", std::process::id()));
    let _ = std::fs::remove_file(&body);
    let out = Command::new("curl")
        .args(["-sk", "--max-time", "20", "-H", "accept: application/json", "-w", "%{http_code}"])
        .arg("-D")
        .arg(&headers)
        .arg("-o")
        .arg(&body)
        .args(args)
        .arg(format!("https://localhost:{https}{path}"))
        .output()
        .expect("curl");
    let status = String::from_utf8_lossy(&out.stdout).trim().parse().unwrap_or(0);
    let h = std::fs::read_to_string(&headers).unwrap_or_default();
    let b = std::fs::read_to_string(&body).unwrap_or_default();
    (status, h, b)
}

#[tokio::test]
async fn two_instances_behind_nginx_with_tls() {
    let db = TempDb::postgres().await;
    let url = db.url();
    let (event, _) = seed(&url, "d", 0, 2).await;
    let (http, https) = (free_addr().port(), free_addr().port());
    let settings = [
        ("TSUDOI_PUBLIC_URL", format!("https://localhost:{https}")),
        ("TSUDOI_TRUSTED_PROXIES", "127.0.0.1/32".to_string()),
        ("TSUDOI_RATE_LOGIN_PER_IP", "3".to_string()),
        ("TSUDOI_RATE_LOGIN_PER_ACCOUNT", "1000".to_string()),
        ("TSUDOI_RATE_SIGNUP_PER_IP", "1000".to_string()),
        ("TSUDOI_FORM_MIN_SECONDS", "0".to_string()),
    ];
    let a = Instance::start_with(&url, "nginx-a", &settings).await;
    let b = Instance::start_with(&url, "nginx-b", &settings).await;
    let nginx = start_nginx(http, https, [&a, &b]).await;
    let jar = nginx.dir.join("cookies");
    let jar = jar.to_str().unwrap();

    // Sign up through the proxy: the session cookie is Secure (TLS), HttpOnly, SameSite.
    // The sign-up form's ticket, from whichever instance nginx picks (they share the key).
    let (_, _, ticket) = curl(&nginx, https, &[], "/api/auth/form-ticket");
    let ticket = format!("form_ticket={}", serde_json::from_str::<String>(&ticket).expect("a ticket"));
    let form = ["-c", jar, "-b", jar, "-d", "nickname=hanako", "-d", "email=hanako@example.com", "-d", &ticket];
    let (status, headers, body) =
        curl(&nginx, https, &[&form[..], &["-d", "password=tsudoi-pass"]].concat(), "/api/auth/signup");
    assert_eq!(status, 200, "{body}");
    let cookie = headers
        .lines()
        .find(|l| l.to_ascii_lowercase().starts_with("set-cookie: tsudoi_session="))
        .unwrap_or_else(|| panic!("session cookie: {headers}"));
    for attribute in ["Secure", "HttpOnly", "SameSite=Lax"] {
        assert!(cookie.contains(attribute), "{cookie}");
    }
    assert!(headers.to_ascii_lowercase().contains("strict-transport-security"), "HSTS behind TLS: {headers}");
    let request_id =
        headers.lines().find_map(|l| l.to_ascii_lowercase().strip_prefix("x-request-id: ").map(str::to_string));
    let request_id = request_id.unwrap_or_else(|| panic!("request id: {headers}"));
    assert!(
        request_id.trim().len() == 32 && request_id.trim().bytes().all(|b| b.is_ascii_hexdigit()),
        "nginx's $request_id kept: {request_id}"
    );

    // A live seat stream through the proxy, then a registration (on either instance): the
    // counter moves on the stream without a reload.
    let stream_file = nginx.dir.join("stream");
    let mut stream = Command::new("curl")
        .args(["-skN", "--max-time", "30"])
        .arg(format!("https://localhost:{https}/live/events/{event}"))
        .stdout(std::fs::File::create(&stream_file).unwrap())
        .stderr(Stdio::null())
        .spawn()
        .expect("curl stream");
    let read = || std::fs::read_to_string(&stream_file).unwrap_or_default();
    let deadline = Instant::now() + Duration::from_secs(10);
    while !read().contains("\"accepted\":0") {
        assert!(Instant::now() < deadline, "first snapshot through the proxy: {}", read());
        std::thread::sleep(Duration::from_millis(50));
    }
    let (status, _, body) =
        curl(&nginx, https, &["-b", jar, "-d", &format!("event_id={event}")], "/api/registrations/register");
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("\"confirmed\""), "{body}");
    let deadline = Instant::now() + Duration::from_secs(10);
    while !read().contains("\"accepted\":1") {
        assert!(Instant::now() < deadline, "the counter moves through the proxy: {}", read());
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = stream.kill();
    let _ = stream.wait();

    // Rate limits see the client, not the proxy: wrong logins from 127.0.0.2 are limited
    // (each instance keeps its own count, so a few more than the limit), while 127.0.0.3,
    // also through the same proxy, and even claiming to be 127.0.0.2, is not.
    let wrong = ["-d", "login=hanako", "-d", "password=wrong-password"];
    let mut limited = false;
    for _ in 0..10 {
        let (status, headers, _) =
            curl(&nginx, https, &[&["--interface", "127.0.0.2"], &wrong[..]].concat(), "/api/auth/login");
        if status == 429 {
            assert!(headers.to_ascii_lowercase().contains("retry-after"), "{headers}");
            limited = true;
            break;
        }
        assert_eq!(status, 422, "a wrong password: {body}");
    }
    assert!(limited, "wrong logins from one client address are limited");
    let spoofing = ["--interface", "127.0.0.3", "-H", "X-Forwarded-For: 127.0.0.2"];
    let other = ["-d", "login=hanako", "-d", "password=another-wrong-one"];
    let (status, _, body) = curl(&nginx, https, &[&spoofing[..], &other[..]].concat(), "/api/auth/login");
    assert_eq!(status, 422, "another client is not limited by the first one's attempts: {body}");

    // Plain HTTP redirects to HTTPS; /metrics is not public through the proxy.
    let out = Command::new("curl")
        .args(["-s", "-o", "/dev/null", "-w", "%{http_code} %{redirect_url}"])
        .arg(format!("http://127.0.0.1:{http}/events"))
        .output()
        .unwrap();
    let redirect = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(redirect.starts_with("301 https://"), "{redirect}");
    assert_eq!(curl(&nginx, https, &[], "/metrics").0, 404);
    assert_eq!(reqwest::get(a.url("/metrics")).await.unwrap().status(), 200, "instances still serve their metrics");
    drop(nginx);
    drop((a, b));
}
