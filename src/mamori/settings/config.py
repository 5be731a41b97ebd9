"""The one settings object. Nothing is built at import time: callers ask for `load_settings()`."""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Every knob of mamori. Environment variables use the ``MAMORI_`` prefix (``MAMORI_DATA_DIR`` …)."""

    model_config = SettingsConfigDict(env_prefix="MAMORI_", env_file=None, extra="ignore")

    data_dir: Path = Field(default=Path("var"), description="Where the SQLite file, archive and snapshots live.")
    database_url: str | None = Field(default=None, description="SQLAlchemy URL; default: SQLite in data_dir.")
    bus: Literal["memory", "nats"] = Field(default="memory", description="Message bus adapter.")
    nats_url: str = Field(default="nats://127.0.0.1:4222", description="NATS server for bus=nats.")
    nats_stream: str = Field(default="MAMORI", description="JetStream stream holding mamori's subjects.")
    nats_prefix: str = Field(default="", description="Subject prefix, to share one NATS between deployments.")
    host: str = Field(default="127.0.0.1", description="Address the HTTP server binds.")
    port: int = Field(default=8080, description="Port the HTTP server binds.")
    secret_key: SecretStr | None = Field(default=None, description="Signs cookies; generated into data_dir.")
    session_hours: int = Field(default=12, description="Lifetime of a console login session.")
    cookie_secure: bool = Field(default=False, description="Send cookies only over HTTPS (set behind TLS).")
    ingest_max_bytes: int = Field(default=64 * 1024 * 1024, description="Largest ingest body (after gunzip).")
    syslog_udp_port: int | None = Field(default=None, description="Listen for syslog over UDP on this port.")
    syslog_tcp_port: int | None = Field(default=None, description="Listen for syslog over TCP on this port.")
    syslog_host: str = Field(default="127.0.0.1", description="Address the syslog listener binds (0.0.0.0: all).")
    syslog_org: str | None = Field(default=None, description="Organisation whose sensor the syslog listener is.")
    rules_dirs: list[Path] = Field(default_factory=list, description="Extra Sigma rule directories to load.")
    sigmahq_dir: Path | None = Field(default=None, description="A SigmaHQ checkout whose rules/ to load.")
    alert_events_kept: int = Field(default=20, description="Triggering events stored per alert.")
    websites_enabled: bool = Field(default=True, description="Run the website watch in this process.")
    websites_concurrency: int = Field(default=64, description="Website checks in flight at once.")
    websites_sync_seconds: float = Field(default=60.0, description="How often the watch re-reads the registry.")
    websites_keep_days: int = Field(default=90, description="Website check rows are kept this many days.")
    baseline_single_approval: bool = Field(
        default=False,
        description="A changed or defaced page approved as a baseline takes effect without a second person.",
    )
    log_level: str = Field(default="info", description="Python logging level.")
    evidence_max_bytes: int = Field(default=512 * 1024 * 1024, description="Largest evidence file upload.")
    smtp_host: str | None = Field(default=None, description="SMTP server for notification e-mail (none: no e-mail).")
    smtp_port: int = Field(default=25, description="SMTP port.")
    mail_from: str = Field(default="mamori@localhost", description="Sender address of notification e-mail.")
    webhook_url: str | None = Field(default=None, description="Webhook that receives every notification (JSON POST).")
    webhook_allow: list[str] = Field(
        default_factory=list,
        description="Private networks a webhook may reach (CIDR); others are refused by the SSRF guard.",
    )

    @property
    def sqlite_path(self) -> Path:
        return self.data_dir / "mamori.db"

    @property
    def archive_dir(self) -> Path:
        return self.data_dir / "archive"

    @property
    def files_dir(self) -> Path:
        return self.data_dir / "files"

    def resolved_database_url(self) -> str:
        return self.database_url or f"sqlite:///{self.sqlite_path}"

    def resolved_secret(self) -> str:
        """The configured secret, or one generated once and kept in the data dir (mode 0600)."""
        if self.secret_key is not None:
            return self.secret_key.get_secret_value()
        path = self.data_dir / "secret.key"
        if not path.exists():
            self.data_dir.mkdir(parents=True, exist_ok=True)
            path.write_text(secrets.token_urlsafe(48))
            path.chmod(0o600)
        return path.read_text().strip()


def load_settings(**overrides: object) -> Settings:
    """Read the environment once; keyword overrides win (used by the CLI flags and tests)."""
    return Settings(**overrides)  # type: ignore[arg-type]
