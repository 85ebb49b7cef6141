//! The binary as a process: start it on a free port, signal it, wait for it.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

pub const BIN: &str = env!("CARGO_BIN_EXE_callerid-mock");

/// A running `callerid-mock` process; killed when dropped.
pub struct Process {
    pub child: Child,
    pub addr: SocketAddr,
    pub banner: String,
}

impl Process {
    /// Starts the binary with `args` on a free port and waits for its banner.
    pub fn start(args: &[&str]) -> Process {
        Process::start_with(Command::new(BIN), args)
    }

    /// Starts `command` (the binary, or a shell that execs it) with `args`.
    pub fn start_with(mut command: Command, args: &[&str]) -> Process {
        if !args.contains(&"--log-level") {
            command.args(["--log-level", "warn"]);
        }
        let mut child = command
            .args(["--bind", "127.0.0.1:0"])
            .args(args)
            .stdout(Stdio::piped())
            .spawn()
            .expect("the binary starts");
        let mut banner = String::new();
        let mut stdout = BufReader::new(child.stdout.take().unwrap());
        while !banner.contains("control") {
            let n = stdout.read_line(&mut banner).unwrap();
            assert!(n > 0, "the banner ends early ({:?}): {banner}", child.try_wait());
        }
        let url = banner.split_whitespace().nth(4).expect("a banner line");
        let addr = url.trim_start_matches("http://").parse().expect("the banner names an address");
        Process { child, addr, banner }
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn pid(&self) -> String {
        self.child.id().to_string()
    }

    /// Sends SIGTERM.
    pub fn term(&self) {
        assert!(Command::new("kill").args(["-TERM", &self.pid()]).status().unwrap().success());
    }

    /// Sends SIGKILL and reaps the process.
    pub fn kill9(mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }

    /// Waits up to `limit` for the process to exit.
    pub fn wait(&mut self, limit: Duration) -> ExitStatus {
        let deadline = Instant::now() + limit;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(Instant::now() < deadline, "the process did not exit within {limit:?}");
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A fresh directory for one test, removed when dropped.
pub struct TempDir(pub std::path::PathBuf);

impl TempDir {
    pub fn new(name: &str) -> TempDir {
        let dir = std::env::temp_dir().join(format!("callerid-mock-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }

    pub fn path(&self, file: &str) -> std::path::PathBuf {
        self.0.join(file)
    }

    /// The names of the files in it.
    pub fn files(&self) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(&self.0)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The server under a shell that ignores SIGXFSZ, so a file-size limit makes writes fail with
/// EFBIG as a full disk makes them fail with ENOSPC; with what it logs (read through a pipe,
/// which no file-size limit touches).
pub fn under_a_size_limit(args: &[&str]) -> (Process, Arc<Mutex<String>>) {
    use std::io::Read;
    let mut sh = Command::new("bash");
    sh.args(["-c", "trap '' XFSZ; exec \"$0\" \"$@\"", BIN]).stderr(std::process::Stdio::piped());
    let mut server = Process::start_with(sh, args);
    let log = Arc::new(Mutex::new(String::new()));
    let mut stderr = server.child.stderr.take().unwrap();
    let sink = log.clone();
    std::thread::spawn(move || {
        let mut buf = [0; 4096];
        while let Ok(n @ 1..) = stderr.read(&mut buf) {
            sink.lock().unwrap().push_str(&String::from_utf8_lossy(&buf[..n]));
        }
    });
    (server, log)
}

pub fn set_file_size_limit(server: &Process, limit: &str) {
    let ok = Command::new("prlimit").args(["--pid", &server.pid(), &format!("--fsize={limit}")]).status().unwrap();
    assert!(ok.success(), "prlimit works here");
}
