"""Driver of scripts/bench: start-up time, throughput (wrk) and memory of callerid-mock beside
a bare hyper reference, each measured the same way in the same run. Prints a table; it
judges nothing (the machines are shared and noisy), the ratio column is the point."""

import base64
import json
import re
import statistics
import subprocess
import sys
import time
import urllib.request

MOCK, REFERENCE = sys.argv[1], sys.argv[2]
DURATION = sys.argv[3] if len(sys.argv) > 3 else "5s"
AUTH_ID = "MAXXXXXXXXXXXXXXXXXX"
AUTH = "Basic " + base64.b64encode(f"{AUTH_ID}:token".encode()).decode()


def start(cmd):
    """Starts a server on a free port; returns (process, base URL, seconds to the first 200)."""
    began = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    line = proc.stdout.readline()
    base = re.search(r"listening on (\S+)", line).group(1)
    while True:
        try:
            with urllib.request.urlopen(base + "/_mock/health", timeout=1) as res:
                if res.status == 200:
                    return proc, base, time.perf_counter() - began
        except OSError:
            time.sleep(0.0005)


def rss_kib(proc, field="VmRSS"):
    with open(f"/proc/{proc.pid}/status") as f:
        return int(re.search(rf"{field}:\s+(\d+)", f.read()).group(1))


def wrk(url, headers=()):
    args = ["wrk", "-t2", "-c64", f"-d{DURATION}", "--latency"]
    for h in headers:
        args += ["-H", h]
    out = subprocess.run(args + [url], capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    p99 = re.search(r"99%\s+([\d.]+\w+)", out).group(1)
    return rps, p99


def startup(cmd, runs=15):
    times = []
    for _ in range(runs):
        proc, _, seconds = start(cmd)
        times.append(seconds * 1000)
        proc.terminate()
        proc.wait()
    return statistics.median(times)


def main():
    mock_cmd = [MOCK, "--bind", "127.0.0.1:0", "--log-level", "warn", "--seed", "1"]
    ref_cmd = [REFERENCE, "127.0.0.1:0"]
    rows = [("start-up to first 200 (median ms)", startup(mock_cmd), startup(ref_cmd), "lower")]

    ref, ref_base, _ = start(ref_cmd)
    mock, base, _ = start(mock_cmd)
    rows.append(("RSS at rest (KiB)", rss_kib(mock), rss_kib(ref), "lower"))

    # State for the provider reads: one verified caller ID.
    def call(method, path, body=None):
        req = urllib.request.Request(base + path, method=method, data=None if body is None else json.dumps(body).encode(),
                                     headers={"Authorization": AUTH, "Content-Type": "application/json"})
        with urllib.request.urlopen(req) as res:
            return json.load(res) if res.status != 204 else None
    api = f"/v1/Account/{AUTH_ID}/VerifiedCallerId/"
    uuid = call("POST", api, {"phone_number": "+12025551234"})["verification_uuid"]
    code = call("GET", "/_mock/codes")["codes"][0]["code"]
    call("POST", f"{api}Verification/{uuid}/", {"otp": code})

    ref_rps, ref_p99 = wrk(ref_base + "/")
    for name, path, headers in [("GET /_mock/health", "/_mock/health", ()),
                                ("Plivo get caller ID", f"{api}+12025551234/", (f"Authorization: {AUTH}",)),
                                ("Plivo list", api, (f"Authorization: {AUTH}",))]:
        rps, p99 = wrk(base + path, headers)
        rows.append((f"{name} (req/s; p99 {p99} vs {ref_p99})", rps, ref_rps, "higher"))
    rows.append(("peak RSS after load (KiB)", rss_kib(mock, "VmHWM"), rss_kib(ref, "VmHWM"), "lower"))
    for proc in (mock, ref):
        proc.terminate()
        proc.wait()

    width = max(len(r[0]) for r in rows)
    print(f"{'measure':<{width}}  {'callerid-mock':>14}  {'bare hyper':>12}  {'ratio':>6}")
    for name, mine, theirs, better in rows:
        print(f"{name:<{width}}  {mine:>14.1f}  {theirs:>12.1f}  {mine / theirs:>6.2f}  ({better} is better)")


main()
