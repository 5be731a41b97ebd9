"""Generated traffic for the demo: a ministry-sized day of benign and hostile web, Windows and IDS records.

Everything here is synthetic and deterministic for a given seed. Attack lines use real-world shapes (scanner
user agents, SQL injection, traversal, XSS payloads, password guessing, credential dumping, PsExec lateral
movement, Suricata ET signatures) so that the same Sigma rules that fire on real data fire here.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, TypeVar

import orjson

BENIGN_PATHS = (
    "/",
    "/index.html",
    "/news/2026/11/budget-briefing",
    "/about/minister",
    "/contact",
    "/press/releases?page=2",
    "/static/css/site.css",
    "/static/js/site.js",
    "/images/logo.png",
    "/procurement/notices",
    "/policy/cyber-security-strategy",
    "/en/",
    "/ja/",
    "/favicon.ico",
)
BROWSERS = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/142.0 Safari/537.36",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_6) AppleWebKit/605.1.15 Version/18.0 Safari/605.1.15",
    "Mozilla/5.0 (X11; Linux x86_64; rv:132.0) Gecko/20100101 Firefox/132.0",
)
SCANNERS = (
    "sqlmap/1.8.11#stable (https://sqlmap.org)",
    "Mozilla/5.00 (Nikto/2.5.0) (Evasions:None) (Test:000003)",
    "gobuster/3.6",
    "Nuclei - Open-source project (github.com/projectdiscovery/nuclei)",
    "masscan/1.3",
    "WPScan v3.8.25 (https://wpscan.com/wordpress-security-scanner)",
)
SQLI = (
    "/search?q=1%27%20UNION%20SELECT%20username,password%20FROM%20users--",
    "/news?id=1%20AND%201=1%20UNION%20ALL%20SELECT%20NULL,NULL,@@version--",
    "/item.php?id=1';WAITFOR DELAY '0:0:5'--",
    "/login?user=admin'--&pass=x",
    "/report?year=2026%27%20OR%20%271%27=%271",
)
TRAVERSAL = (
    "/download?file=../../../../etc/passwd",
    "/static/..%2f..%2f..%2fwindows/win.ini",
    "/cgi-bin/.%2e/.%2e/.%2e/.%2e/bin/sh",
    "/view?page=....//....//etc/shadow",
)
XSS = (
    "/search?q=<script>alert(document.cookie)</script>",
    "/comment?text=<img src=x onerror=alert(1)>",
    '/feedback?name="><svg/onload=confirm(1)>',
    "/q?x=javascript:alert(String.fromCharCode(88,83,83))",
)
PROBES = (
    "/wp-login.php",
    "/wp-admin/setup-config.php",
    "/.env",
    "/.git/config",
    "/phpmyadmin/index.php",
    "/server-status",
    "/actuator/env",
    "/vendor/phpunit/phpunit/src/Util/PHP/eval-stdin.php",
    "/cgi-bin/luci/;stok=/locale",
    "/owa/auth/logon.aspx",
    "/solr/admin/info/system",
)
SCAN_PATHS = [
    f"/{word}{ext}"
    for word in (
        "admin",
        "backup",
        "config",
        "db",
        "old",
        "test",
        "uploads",
        "api",
        "private",
        "setup",
        "install",
        "shell",
        "console",
        "debug",
        "dump",
        "site",
        "data",
        "tmp",
        "dev",
        "staging",
    )
    for ext in (".php", ".bak", ".zip", "/", ".sql", ".old")
]
HOSTILE_NETS = ("185.220.101.", "45.155.205.", "193.142.146.", "103.145.13.", "91.240.118.", "5.188.206.")
T = TypeVar("T")
WORKSTATIONS = ("WS-0142", "WS-0217", "WS-0388", "LT-2031", "LT-1186")
SERVERS = ("FS01", "DC01", "WEB02", "APP03")


@dataclass(frozen=True)
class Batch:
    """Records of one sensor, in one wire format, ready for POST /api/v1/ingest."""

    org: str
    sensor_kind: str  # "web", "windows", "ids"
    format: str
    body: bytes


def _ts_clf(t: datetime) -> str:
    return t.strftime("%d/%b/%Y:%H:%M:%S +0000")


def _iso(t: datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class Generator:
    def __init__(self, seed: int = 7) -> None:
        self.rnd = random.Random(seed)

    def _ip(self, hostile: bool = False) -> str:
        if hostile:
            return self.rnd.choice(HOSTILE_NETS) + str(self.rnd.randint(2, 250))
        return (
            f"{self.rnd.choice((126, 133, 153, 202, 210, 220))}.{self.rnd.randint(0, 255)}."
            f"{self.rnd.randint(0, 255)}.{self.rnd.randint(1, 254)}"
        )

    def _access(self, t: datetime, ip: str, method: str, path: str, status: int, ua: str) -> str:
        path = path.replace('"', "\\x22")  # as Apache and nginx write a quote inside the request line
        size = self.rnd.randint(200, 48_000) if status == 200 else self.rnd.randint(150, 600)
        return f'{ip} - - [{_ts_clf(t)}] "{method} {path} HTTP/1.1" {status} {size} "-" "{ua}"'

    def web_lines(self, start: datetime, end: datetime, benign: int, attacks: int) -> list[str]:
        """Access-log lines in time order: ordinary visitors plus `attacks` hostile episodes."""
        timed = [
            (
                t,
                self._access(
                    t,
                    self._ip(),
                    "GET",
                    self.rnd.choice(BENIGN_PATHS),
                    self.rnd.choice((200, 200, 200, 200, 304, 404)),
                    self.rnd.choice(BROWSERS),
                ),
            )
            for t in (self._t(start, end) for _ in range(benign))
        ]
        latest = end - timedelta(minutes=2)  # an episode lasts up to ~90 s and must not end in the future
        for _ in range(attacks):
            timed += self._attack(self._t(start, max(start, latest)))
        timed.sort(key=lambda item: item[0])
        return [line for _, line in timed]

    def _attack(self, t: datetime) -> list[tuple[datetime, str]]:
        ip = self._ip(hostile=True)
        kind = self.rnd.choice(("scan", "sqli", "traversal", "xss", "bruteforce", "probe"))
        if kind == "scan":  # a directory brute force: many distinct missing URLs within a minute
            ua = self.rnd.choice(SCANNERS)
            paths = self.rnd.sample(SCAN_PATHS, self.rnd.randint(22, 45))
            return [
                (t + timedelta(seconds=i), self._access(t + timedelta(seconds=i), ip, "GET", path, 404, ua))
                for i, path in enumerate(paths)
            ]
        if kind == "bruteforce":
            ua = self.rnd.choice(BROWSERS)
            return [
                (
                    t + timedelta(seconds=i * 2),
                    self._access(t + timedelta(seconds=i * 2), ip, "POST", "/admin/login", 401, ua),
                )
                for i in range(self.rnd.randint(12, 40))
            ]
        choices = {"sqli": SQLI, "traversal": TRAVERSAL, "xss": XSS, "probe": PROBES}[kind]
        path = self.rnd.choice(choices).replace(" ", "%20")
        ua = self.rnd.choice(SCANNERS + BROWSERS)
        return [(t, self._access(t, ip, "GET", path, self.rnd.choice((200, 403, 500)), ua))]

    def _t(self, start: datetime, end: datetime) -> datetime:
        return start + (end - start) * self.rnd.random()

    # --- Windows ---------------------------------------------------------------------------------------

    def windows_events(self, org: str, start: datetime, end: datetime, benign: int, intrusions: int) -> list[bytes]:
        """Windows records in time order: ordinary logons and programs, password attacks, intrusions."""
        domain = org.upper()
        latest = max(start, end - timedelta(minutes=15))  # episodes last minutes and must not end in the future
        events = [self._benign_windows(self._t(start, end), domain) for _ in range(benign)]
        for _ in range(intrusions):
            events += self._intrusion(self._t(start, latest), domain)
            events += self._password_attack(self._t(start, latest), domain)
        events.sort(key=_event_time)
        return [orjson.dumps(e) for e in events]

    def _password_attack(self, t: datetime, domain: str) -> list[dict[str, object]]:
        """Spraying one password over many accounts from one address, then guessing one account until it works."""
        ip, dc = self._ip(hostile=True), f"DC01.{domain.lower()}.go.example"
        users = [f"user{n}" for n in self.rnd.sample(range(1, 400), 14)]
        out = [self._logon(t + timedelta(seconds=20 * i), dc, 4625, user, ip, domain) for i, user in enumerate(users)]
        t += timedelta(minutes=6)
        out += [self._logon(t + timedelta(seconds=5 * i), dc, 4625, "administrator", ip, domain) for i in range(12)]
        out.append(self._logon(t + timedelta(seconds=65), dc, 4624, "administrator", ip, domain))
        return out

    def _logon(self, t: datetime, host: str, event_id: int, user: str, ip: str, domain: str) -> dict[str, object]:
        data: dict[str, object] = {
            "TargetUserName": user,
            "TargetDomainName": domain,
            "LogonType": 3,
            "IpAddress": ip,
            "WorkstationName": "-",
            "AuthenticationPackageName": "NTLM",
        }
        if event_id == 4625:
            data.update(Status="0xc000006d", SubStatus="0xc000006a", FailureReason="%%2313")
        return self._evt(t, "Security", event_id, host, data)

    def _evt(
        self, t: datetime, channel: str, event_id: int, computer: str, data: dict[str, object]
    ) -> dict[str, object]:
        return {
            "Event": {
                "System": {
                    "Provider": {"#attributes": {"Name": _provider(channel)}},
                    "EventID": event_id,
                    "Channel": channel,
                    "Computer": computer,
                    "EventRecordID": self.rnd.randint(10_000, 9_999_999),
                    "TimeCreated": {"#attributes": {"SystemTime": _iso(t)}},
                },
                "EventData": data,
            }
        }

    def _benign_windows(self, t: datetime, domain: str) -> dict[str, object]:
        host = f"{self.rnd.choice(WORKSTATIONS)}.{domain.lower()}.go.example"
        if self.rnd.random() < 0.5:
            return self._evt(
                t,
                "Security",
                4624,
                host,
                {
                    "TargetUserName": f"user{self.rnd.randint(1, 400)}",
                    "TargetDomainName": domain,
                    "LogonType": 2,
                    "IpAddress": "-",
                    "WorkstationName": host.split(".")[0],
                },
            )
        image = self.rnd.choice(
            (
                "C:\\Program Files\\Microsoft Office\\root\\Office16\\OUTLOOK.EXE",
                "C:\\Program Files\\Google\\Chrome\\Application\\chrome.exe",
                "C:\\Windows\\System32\\notepad.exe",
            )
        )
        return self._evt(
            t,
            "Microsoft-Windows-Sysmon/Operational",
            1,
            host,
            {
                "Image": image,
                "CommandLine": f'"{image}"',
                "ParentImage": "C:\\Windows\\explorer.exe",
                "User": f"{domain}\\user{self.rnd.randint(1, 400)}",
                "IntegrityLevel": "Medium",
                "OriginalFileName": image.rsplit("\\", 1)[1].upper(),
            },
        )

    def _intrusion(self, t: datetime, domain: str) -> list[dict[str, object]]:
        """Credential theft on a workstation, then lateral movement to a server with the stolen account."""
        ws = f"{self.rnd.choice(WORKSTATIONS)}.{domain.lower()}.go.example"
        srv = f"{self.rnd.choice(SERVERS)}.{domain.lower()}.go.example"
        user = f"{domain}\\svc-backup"
        sysmon = "Microsoft-Windows-Sysmon/Operational"
        step = timedelta(seconds=40)
        return [
            self._evt(
                t,
                sysmon,
                1,
                ws,
                {
                    "Image": "C:\\Users\\Public\\procdump64.exe",
                    "OriginalFileName": "procdump",
                    "CommandLine": "procdump64.exe -accepteula -ma lsass.exe C:\\Users\\Public\\l.dmp",
                    "ParentImage": "C:\\Windows\\System32\\cmd.exe",
                    "User": user,
                    "IntegrityLevel": "High",
                },
            ),
            self._evt(
                t + step,
                sysmon,
                10,
                ws,
                {
                    "SourceImage": "C:\\Users\\Public\\procdump64.exe",
                    "TargetImage": "C:\\Windows\\system32\\lsass.exe",
                    "GrantedAccess": "0x1fffff",
                    "CallTrace": "C:\\Windows\\SYSTEM32\\ntdll.dll+9d234|UNKNOWN(00007FF8)",
                },
            ),
            self._evt(
                t + 2 * step,
                sysmon,
                1,
                ws,
                {
                    "Image": "C:\\Users\\Public\\mimikatz.exe",
                    "OriginalFileName": "mimikatz.exe",
                    "CommandLine": 'mimikatz.exe "privilege::debug" "sekurlsa::logonpasswords" exit',
                    "ParentImage": "C:\\Windows\\System32\\cmd.exe",
                    "User": user,
                    "IntegrityLevel": "High",
                },
            ),
            self._evt(
                t + 3 * step,
                sysmon,
                1,
                ws,
                {
                    "Image": "C:\\Users\\Public\\PsExec64.exe",
                    "OriginalFileName": "psexec.c",
                    "CommandLine": f"PsExec64.exe \\\\{srv.split('.')[0]} -accepteula -s cmd.exe",
                    "ParentImage": "C:\\Windows\\System32\\cmd.exe",
                    "User": user,
                    "IntegrityLevel": "High",
                },
            ),
            self._evt(
                t + 4 * step,
                "Security",
                4624,
                srv,
                {
                    "TargetUserName": "svc-backup",
                    "TargetDomainName": domain,
                    "LogonType": 3,
                    "IpAddress": "10.20.3.41",
                    "WorkstationName": ws.split(".")[0],
                    "AuthenticationPackageName": "NTLM",
                },
            ),
            self._evt(
                t + 4 * step,
                "System",
                7045,
                srv,
                {
                    "ServiceName": "PSEXESVC",
                    "ImagePath": "%SystemRoot%\\PSEXESVC.exe",
                    "ServiceType": "user mode service",
                    "StartType": "demand start",
                    "AccountName": "LocalSystem",
                },
            ),
            self._evt(
                t + 5 * step,
                sysmon,
                1,
                srv,
                {
                    "Image": "C:\\Windows\\System32\\wbem\\WMIC.exe",
                    "OriginalFileName": "wmic.exe",
                    "CommandLine": 'wmic /node:FS01 process call create "cmd.exe /c whoami > C:\\out.txt"',
                    "ParentImage": "C:\\Windows\\PSEXESVC.exe",
                    "User": "NT AUTHORITY\\SYSTEM",
                    "IntegrityLevel": "System",
                },
            ),
        ]

    # --- Suricata ----------------------------------------------------------------------------------------

    def suricata_alerts(self, start: datetime, end: datetime, n: int, internal: str) -> list[bytes]:
        signatures = (
            (2001219, "ET SCAN Potential SSH Scan", "Attempted Information Leak", 2),
            (2024364, "ET SCAN Possible Nmap User-Agent Observed", "Web Application Attack", 1),
            (
                2027865,
                "ET EXPLOIT Apache Struts RCE (CVE-2017-5638)",
                "Attempted Administrator Privilege Gain",
                1,
            ),
            (2013028, "ET POLICY curl User-Agent Outbound", "Attempted Information Leak", 3),
            (2030358, "ET MALWARE Cobalt Strike Beacon Observed", "A Network Trojan was detected", 1),
        )
        out = []
        for _ in range(n):
            sid, sig, cat, sev = self.rnd.choice(signatures)
            out.append(
                orjson.dumps(
                    {
                        "timestamp": _iso(self._t(start, end)).replace("Z", "+0000"),
                        "event_type": "alert",
                        "src_ip": self._ip(hostile=True),
                        "src_port": self.rnd.randint(1024, 65535),
                        "dest_ip": f"{internal}.{self.rnd.randint(2, 60)}",
                        "dest_port": self.rnd.choice((22, 80, 443, 8080)),
                        "proto": "TCP",
                        "alert": {
                            "action": "allowed",
                            "gid": 1,
                            "signature_id": sid,
                            "rev": 3,
                            "signature": sig,
                            "category": cat,
                            "severity": sev,
                        },
                    }
                )
            )
        return out


def _event_time(event: dict[str, Any]) -> str:
    return str(event["Event"]["System"]["TimeCreated"]["#attributes"]["SystemTime"])


def _provider(channel: str) -> str:
    return {"Security": "Microsoft-Windows-Security-Auditing", "System": "Service Control Manager"}.get(
        channel, "Microsoft-Windows-Sysmon"
    )


def day_of_traffic(orgs: list[str], end: datetime, *, scale: float = 1.0, seed: int = 7) -> Iterator[Batch]:
    """A day of traffic for each organisation, cut into ingest-sized batches (in time order per sensor)."""
    gen = Generator(seed)
    start = end - timedelta(days=1)
    for n, org in enumerate(orgs):
        web = gen.web_lines(start, end, benign=int(3000 * scale), attacks=int(60 * scale) + n * 5)
        for lines in _chunks(web, 2000):
            yield Batch(org, "web", "webaccess", "\n".join(lines).encode())
        windows = gen.windows_events(org, start, end, benign=int(400 * scale), intrusions=1 + (n % 3 == 0))
        for records in _chunks(windows, 1000):
            yield Batch(org, "windows", "json", b"\n".join(records))
        alerts = gen.suricata_alerts(start, end, int(40 * scale) + 5 * n, internal=f"10.{20 + n}.1")
        yield Batch(org, "ids", "json", b"\n".join(alerts))


def _chunks(items: list[T], size: int) -> Iterator[list[T]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]
